#include "bench_stats.h"

#include <sys/resource.h>

#include <algorithm>
#include <fstream>
#include <iomanip>
#include <sstream>

namespace kiln::cli {

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

Summary summarize(std::vector<double> values) {
  Summary s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  s.min = values.front();
  s.max = values.back();
  s.median = n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
  s.p90 = values[std::clamp<size_t>(static_cast<size_t>(std::ceil(0.9 * static_cast<double>(n))), 1, n) - 1];
  return s;
}

// Linux's VmHWM is the high-water mark of this address space alone; getrusage's ru_maxrss
// survives execve, so a child of a large parent (the node driver) would report at least the
// parent's RSS at fork. ru_maxrss is the fallback elsewhere.
double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // "VmHWM:  1234 kB"
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

std::string json_number(double value) { return std::isfinite(value) ? std::to_string(value) : std::string("null"); }

}  // namespace kiln::cli
