// What the benchmark commands (bench, bench-llm) share: timing, latency statistics, peak RSS and
// the JSON quoting of their one-line reports.
#pragma once

#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "core/json_text.h"

namespace kiln::cli {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start);

// Statistics of a sample; NaN (printed as JSON null) when it is empty. p90 is the nearest-rank
// percentile; the median averages the middle two of an even count.
struct Summary {
  double min = std::nan(""), median = std::nan(""), p90 = std::nan(""), max = std::nan("");
};
Summary summarize(std::vector<double> values);

// This process's peak RSS in MB.
double peak_rss_mb();

// A number for JSON, null when not finite.
std::string json_number(double value);

}  // namespace kiln::cli
