// The peak RSS of this process in MB: VmHWM, the peak of this address space alone.
// resourceUsage().maxRSS (getrusage) survives execve and so would include the parent driver's
// RSS at fork; it is only the fallback.
import { readFileSync } from 'node:fs';

export function peakRssMb() {
  try {
    const kb = /VmHWM:\s*(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kb) return Number(kb) / 1024;
  } catch {}
  return process.resourceUsage().maxRSS / 1024;  // in KiB
}
