// How a calibrated tensor's quantization range is chosen from what calibration saw: its extremes
// (MinMax), a percentile of its magnitudes (Percentile), or TensorRT's entropy calibration, the
// clipping threshold whose quantized distribution loses the least information (Entropy).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::quant {

enum class CalibrationMethod { MinMax, Percentile, Entropy };

CalibrationMethod parse_calibration_method(const std::string& name);
const char* calibration_method_name(CalibrationMethod method);

// Counts of |x| in `bins` equal bins over [0, top]; |x| == top lands in the last bin. Exact zeros
// are counted apart: quantization keeps them exact, and after a ReLU they are half of all values,
// a spike that would otherwise dominate the first bin.
struct MagnitudeHistogram {
  double top = 0;
  std::vector<uint64_t> counts;
  uint64_t zeros = 0;

  double bin_width() const { return counts.empty() ? 0 : top / static_cast<double>(counts.size()); }
  void add(const float* x, int64_t n);
};

// The magnitude below which `percentile` percent of the counted values lie, at bin resolution (the
// upper edge of the bin where the cumulative count reaches it).
double percentile_threshold(const MagnitudeHistogram& histogram, double percentile);

// TensorRT's entropy calibration: for each candidate threshold i bins wide (from quantized_levels
// bins to all of them), the reference distribution P is the first i bins with every count beyond
// folded into bin i - 1, and Q is the first i bins without those outliers merged into quantized_levels levels and spread back over the
// bins of each level that were non-zero in P. The threshold is the edge of the i with the smallest
// KL(P || Q). quantized_levels is how many integer levels cover [0, threshold]: 128 for values of
// both signs, 255 for values that are never negative. Exact zeros take no part.
double entropy_threshold(const MagnitudeHistogram& histogram, int quantized_levels);

}  // namespace kiln::quant
