// Kiln, run as child processes of the build's `kiln` CLI.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpy } from './npy.mjs';

const run = (kiln, args, env = {}) =>
  execFileSync(kiln, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20 });

// `kiln bench ... --json`: {model, threads, median_ms, p90_ms, min_ms, runs, load_ms, peak_rss_mb, ..., latencies_ms}.
export function kilnBench(kiln, model, args) {
  return JSON.parse(run(kiln, ['bench', model, ...args, '--json']));
}

// `kiln run` once on the given inputs; returns {outputName: {dtype, shape, data}}. `cpuLevel`
// goes through KILN_CPU_LEVEL (empty: the best the CPU has).
export function kilnOutputs(kiln, model, inputArgs, cpuLevel = '') {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-'));
  try {
    run(kiln, ['run', model, ...inputArgs, '--output-dir', dir], cpuLevel ? { KILN_CPU_LEVEL: cpuLevel } : {});
    return Object.fromEntries(readdirSync(dir).map((f) => [f.replace(/\.npy$/, ''), readNpy(join(dir, f))]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
