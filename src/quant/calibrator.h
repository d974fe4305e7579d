// Runs a float model over calibration samples and records, for each tensor asked for, what the
// calibration method needs: its extremes, and for Percentile and Entropy a histogram of its
// magnitudes (a second pass, once the extremes fix the histogram's range).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ir/graph.h"
#include "quant/calibration_data.h"
#include "quant/calibration_method.h"

namespace kiln::quant {

struct CalibrationOptions {
  CalibrationMethod method = CalibrationMethod::MinMax;
  double percentile = 99.999;
  int histogram_bins = 2048;
  int threads = 0;  // 0: the session default
};

struct TensorRange {
  float low = 0, high = 0;
};

// Called as calibration passes go: the pass ("calibrating", "histograms"), samples done, total.
using CalibrationProgress = std::function<void(std::string_view stage, int64_t done, int64_t total)>;

// The range each of `tensors` is quantized over. A tensor that is an initializer gets the
// extremes of its values; the others are read from runs of `model` on every sample.
std::map<std::string, TensorRange> calibrate(const ir::Model& model, const std::vector<std::string>& tensors,
                                             const CalibrationSamples& data, const CalibrationOptions& options,
                                             const CalibrationProgress& progress = {});

// A Model that computes `tensors` as graph outputs besides its own: what calibration and the
// quantization report run.
ir::Model with_outputs(ir::Model model, const std::vector<std::string>& tensors);

}  // namespace kiln::quant
