#include "quant/calibration_method.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kiln/error.h"

namespace kiln::quant {

CalibrationMethod parse_calibration_method(const std::string& name) {
  if (name == "minmax") return CalibrationMethod::MinMax;
  if (name == "percentile") return CalibrationMethod::Percentile;
  if (name == "entropy") return CalibrationMethod::Entropy;
  throw Error(ErrorCode::InvalidArgument,
              "unknown calibration method '" + name + "'; the methods are: minmax, percentile, entropy");
}

const char* calibration_method_name(CalibrationMethod method) {
  switch (method) {
    case CalibrationMethod::MinMax: return "minmax";
    case CalibrationMethod::Percentile: return "percentile";
    case CalibrationMethod::Entropy: return "entropy";
  }
  return "?";
}

void MagnitudeHistogram::add(const float* x, int64_t n) {
  if (counts.empty() || !(top > 0)) return;
  const double scale = static_cast<double>(counts.size()) / top;
  const auto last = static_cast<int64_t>(counts.size()) - 1;
  for (int64_t i = 0; i < n; ++i) {
    const double magnitude = std::fabs(static_cast<double>(x[i]));
    if (std::isnan(magnitude)) continue;
    if (magnitude == 0) {
      ++zeros;
      continue;
    }
    ++counts[static_cast<size_t>(std::min(static_cast<int64_t>(magnitude * scale), last))];
  }
}

double percentile_threshold(const MagnitudeHistogram& histogram, double percentile) {
  if (!(percentile > 0 && percentile <= 100))
    throw Error(ErrorCode::InvalidArgument, "percentile must be in (0, 100], got " + std::to_string(percentile));
  uint64_t total = histogram.zeros;
  for (uint64_t c : histogram.counts) total += c;
  if (total == 0) return histogram.top;
  const double wanted = static_cast<double>(total) * percentile / 100.0;
  uint64_t seen = histogram.zeros;
  for (size_t i = 0; i < histogram.counts.size(); ++i) {
    seen += histogram.counts[i];
    if (static_cast<double>(seen) >= wanted) return histogram.bin_width() * static_cast<double>(i + 1);
  }
  return histogram.top;
}

namespace {

// KL(P || Q) over the bins where P is non-zero, both normalized to sum 1. Where Q is zero and P
// is not (a level whose mass came all from P's folded outliers), Q is smoothed to a small share
// instead of making the divergence infinite, as MXNet's and ONNX Runtime's calibrators do.
double kl_divergence(const std::vector<double>& p, const std::vector<double>& q) {
  constexpr double kSmoothing = 1e-4;
  double p_sum = 0, q_sum = 0;
  for (size_t i = 0; i < p.size(); ++i) p_sum += p[i], q_sum += q[i];
  if (q_sum == 0) return std::numeric_limits<double>::infinity();
  double divergence = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == 0) continue;
    const double pi = p[i] / p_sum, qi = std::max(q[i] / q_sum, kSmoothing / static_cast<double>(p.size()));
    divergence += pi * std::log(pi / qi);
  }
  return divergence;
}

}  // namespace

double entropy_threshold(const MagnitudeHistogram& histogram, int quantized_levels) {
  const auto bins = static_cast<int64_t>(histogram.counts.size());
  if (quantized_levels < 2) throw Error(ErrorCode::InvalidArgument, "entropy calibration needs at least 2 levels");
  if (bins <= quantized_levels) return histogram.top;
  std::vector<double> reference, expanded;
  double best_divergence = std::numeric_limits<double>::infinity();
  int64_t best = bins;
  for (int64_t i = quantized_levels; i <= bins; ++i) {
    reference.assign(histogram.counts.begin(), histogram.counts.begin() + i);
    double outliers = 0;
    for (int64_t j = i; j < bins; ++j) outliers += static_cast<double>(histogram.counts[static_cast<size_t>(j)]);
    reference.back() += outliers;
    // Q quantizes the first i bins without the outliers, which is what makes clipping cost: level
    // l covers bins [l * i / levels, (l + 1) * i / levels) and shares their counts equally among
    // the bins of the range where P is non-zero (empty bins stay empty, as in TensorRT).
    expanded.assign(static_cast<size_t>(i), 0.0);
    for (int64_t level = 0; level < quantized_levels; ++level) {
      const int64_t begin = level * i / quantized_levels, end = (level + 1) * i / quantized_levels;
      double mass = 0;
      int64_t filled = 0;
      for (int64_t j = begin; j < end; ++j)
        if (reference[static_cast<size_t>(j)] != 0) mass += static_cast<double>(histogram.counts[static_cast<size_t>(j)]), ++filled;
      if (filled == 0) continue;
      for (int64_t j = begin; j < end; ++j)
        if (reference[static_cast<size_t>(j)] != 0) expanded[static_cast<size_t>(j)] = mass / static_cast<double>(filled);
    }
    const double divergence = kl_divergence(reference, expanded);
    if (divergence < best_divergence) best_divergence = divergence, best = i;
  }
  return histogram.bin_width() * static_cast<double>(best);
}

}  // namespace kiln::quant
