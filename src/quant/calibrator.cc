#include "quant/calibrator.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kiln/error.h"
#include "ops/shapes/shape_functions.h"
#include "runtime/plan.h"

namespace kiln::quant {
namespace {

struct Extremes {
  float low = std::numeric_limits<float>::infinity();
  float high = -std::numeric_limits<float>::infinity();

  void add(const float* x, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      if (std::isnan(x[i])) continue;
      low = std::min(low, x[i]);
      high = std::max(high, x[i]);
    }
  }
  bool seen() const { return low <= high; }
};

// Runs the plan on every sample, handing each requested tensor's values to `visit`.
template <class Visit>
void run_samples(const runtime::Plan& plan, const std::vector<std::string>& names, const CalibrationSamples& data,
                 std::string_view stage, const CalibrationProgress& progress, Visit&& visit) {
  for (int64_t s = 0; s < data.size(); ++s) {
    std::vector<Tensor> outputs;
    try {
      outputs = plan.run(data.sample(s), names);
    } catch (const Error& e) {
      throw Error(e.code(), "calibration sample " + data.describe(s) + ": " + e.what());
    }
    for (size_t i = 0; i < names.size(); ++i) visit(i, outputs[i]);
    if (progress) progress(stage, s + 1, data.size());
  }
}

}  // namespace

ir::Model with_outputs(ir::Model model, const std::vector<std::string>& tensors) {
  ops::infer_shapes(model);
  for (const std::string& name : tensors) {
    if (std::any_of(model.graph.outputs.begin(), model.graph.outputs.end(), [&](const ir::Value& v) { return v.name == name; }))
      continue;
    auto value = model.graph.find_value(name);
    if (!value) throw Error(ErrorCode::InvalidArgument, "quantization: no value '" + name + "' in the model");
    model.graph.outputs.push_back(*value);
  }
  return model;
}

std::map<std::string, TensorRange> calibrate(const ir::Model& model, const std::vector<std::string>& tensors,
                                             const CalibrationSamples& data, const CalibrationOptions& options,
                                             const CalibrationProgress& progress) {
  std::map<std::string, TensorRange> ranges;
  std::vector<std::string> computed;
  for (const std::string& name : tensors) {
    const auto it = model.graph.initializers.find(name);
    if (it == model.graph.initializers.end()) {
      computed.push_back(name);
      continue;
    }
    Extremes e;
    e.add(it->second.data<float>(), it->second.numel());
    ranges[name] = e.seen() ? TensorRange{e.low, e.high} : TensorRange{};
  }
  if (computed.empty()) return ranges;

  SessionOptions session_options;
  session_options.threads = options.threads;
  const runtime::Plan plan(with_outputs(model, computed), session_options);
  std::vector<Extremes> extremes(computed.size());
  run_samples(plan, computed, data, "calibrating", progress, [&](size_t i, const Tensor& t) {
    extremes[i].add(t.data<float>(), t.numel());
  });

  std::vector<MagnitudeHistogram> histograms(computed.size());
  if (options.method != CalibrationMethod::MinMax) {
    for (size_t i = 0; i < computed.size(); ++i) {
      histograms[i].top = extremes[i].seen() ? std::max(std::fabs(extremes[i].low), std::fabs(extremes[i].high)) : 0.0;
      histograms[i].counts.assign(static_cast<size_t>(options.histogram_bins), 0);
    }
    run_samples(plan, computed, data, "histograms", progress, [&](size_t i, const Tensor& t) {
      histograms[i].add(t.data<float>(), t.numel());
    });
  }

  for (size_t i = 0; i < computed.size(); ++i) {
    const Extremes& e = extremes[i];
    TensorRange range = e.seen() ? TensorRange{e.low, e.high} : TensorRange{};
    if (options.method != CalibrationMethod::MinMax && histograms[i].top > 0) {
      // Values of both signs spread the integer levels over [-t, t]; never-negative ones over [0, t].
      const double threshold = options.method == CalibrationMethod::Percentile
                                   ? percentile_threshold(histograms[i], options.percentile)
                                   : entropy_threshold(histograms[i], range.low < 0 ? 128 : 255);
      range.low = std::max(range.low, static_cast<float>(-threshold));
      range.high = std::min(range.high, static_cast<float>(threshold));
    }
    ranges[computed[i]] = range;
  }
  return ranges;
}

}  // namespace kiln::quant
