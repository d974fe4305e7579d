#include "quant/quantizer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/cpu_features.h"
#include "passes/pass_manager.h"
#include "quant/insert_qdq.h"
#include "runtime/plan.h"

namespace kiln::quant {
namespace {

// Level 1 only: its rewrites keep standard ONNX ops, which the quantized model must hold.
void basic_optimizations(ir::Model& model) { passes::optimize(model, {1, detected_cpu_level(), {}}); }

std::string describe_producer(const ir::Graph& graph, const std::string& tensor) {
  for (const ir::Node& node : graph.nodes)
    if (std::find(node.outputs.begin(), node.outputs.end(), tensor) != node.outputs.end()) return node.describe();
  return "graph input";
}

struct ErrorSums {
  double dot = 0, reference = 0, quantized = 0, noise = 0;
};

}  // namespace

std::vector<std::string> graph_input_names(const ir::Graph& graph) {
  std::vector<std::string> names;
  for (const ir::Value& input : graph.inputs) names.push_back(input.name);
  return names;
}

StaticResult quantize_static(ir::Model model, const CalibrationSamples& samples, const StaticOptions& options,
                             const CalibrationProgress& progress) {
  basic_optimizations(model);
  StaticResult result;
  result.plan = plan_qdq(model.graph, options.qdq);
  const auto ranges = calibrate(model, result.plan.calibrated, samples, options.calibration, progress);
  result.float_model = model;
  insert_qdq(model, result.plan, activation_params(result.plan, ranges, options.qdq.activation_type));
  result.model = std::move(model);
  return result;
}

ir::Model quantize_dynamic_model(ir::Model model, const DynamicOptions& options) {
  basic_optimizations(model);
  quantize_dynamic(model, options);
  return model;
}

std::vector<TensorError> quantization_errors(const StaticResult& result, const CalibrationSamples& data,
                                             const CalibrationProgress& progress) {
  std::vector<std::string> tensors = result.plan.calibrated;
  for (const auto& [name, source] : result.plan.shared) tensors.push_back(name);
  std::erase_if(tensors, [&](const std::string& t) { return result.float_model.graph.initializers.count(t) != 0; });
  std::vector<std::string> dequantized;
  for (const std::string& t : tensors) dequantized.push_back(dequantized_name(t));

  const runtime::Plan reference(with_outputs(result.float_model, tensors), SessionOptions{});
  const runtime::Plan quantized(with_outputs(result.model, dequantized), SessionOptions{});
  std::vector<ErrorSums> sums(tensors.size());
  for (int64_t s = 0; s < data.size(); ++s) {
    const auto feeds = data.sample(s);
    const std::vector<Tensor> expected = reference.run(feeds, tensors);
    const std::vector<Tensor> actual = quantized.run(feeds, dequantized);
    for (size_t i = 0; i < tensors.size(); ++i) {
      const float* x = expected[i].data<float>();
      const float* y = actual[i].data<float>();
      ErrorSums& e = sums[i];
      for (int64_t k = 0; k < expected[i].numel(); ++k) {
        e.dot += static_cast<double>(x[k]) * y[k];
        e.reference += static_cast<double>(x[k]) * x[k];
        e.quantized += static_cast<double>(y[k]) * y[k];
        e.noise += (static_cast<double>(x[k]) - y[k]) * (static_cast<double>(x[k]) - y[k]);
      }
    }
    if (progress) progress("comparing", s + 1, data.size());
  }
  std::vector<TensorError> errors;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const ErrorSums& e = sums[i];
    TensorError error{tensors[i], describe_producer(result.float_model.graph, tensors[i])};
    const double norms = std::sqrt(e.reference * e.quantized);
    error.cosine = norms > 0 ? e.dot / norms : (e.reference == e.quantized ? 1.0 : 0.0);
    error.sqnr_db = e.noise > 0 ? 10 * std::log10(e.reference / e.noise) : std::numeric_limits<double>::infinity();
    errors.push_back(error);
  }
  std::sort(errors.begin(), errors.end(), [](const TensorError& a, const TensorError& b) { return a.sqnr_db < b.sqnr_db; });
  return errors;
}

}  // namespace kiln::quant
