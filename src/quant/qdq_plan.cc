#include "quant/qdq_plan.h"

#include <algorithm>

#include "ir/graph_edit.h"
#include "kiln/error.h"

namespace kiln::quant {
namespace {

const std::set<std::string>& weighted_ops() {
  static const std::set<std::string> ops = {"Conv", "ConvTranspose", "Gemm", "MatMul"};
  return ops;
}
const std::set<std::string>& computing_ops() {
  static const std::set<std::string> ops = {"Add",         "Mul",     "Concat",      "AveragePool", "GlobalAveragePool",
                                            "Resize",      "Sigmoid", "LeakyRelu",   "HardSigmoid", "HardSwish"};
  return ops;
}
const std::set<std::string>& data_movement_ops() {
  static const std::set<std::string> ops = {"MaxPool", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze"};
  return ops;
}

bool is_float_activation(const ir::Graph& graph, const std::string& name) {
  if (name.empty()) return false;
  const auto value = graph.find_value(name);
  return value && value->dtype == DType::Float32;
}

// Clip's lower bound is 0: the `min` attribute (before opset 11) or a constant second input.
bool clips_at_zero(const ir::Graph& graph, const ir::Node& node) {
  if (node.op_type == "Relu") return true;
  if (node.op_type != "Clip") return false;
  if (const auto it = node.attributes.find("min"); it != node.attributes.end())
    return std::holds_alternative<float>(it->second) && std::get<float>(it->second) == 0.f;
  if (node.inputs.size() < 2 || node.inputs[1].empty()) return false;
  const auto it = graph.initializers.find(node.inputs[1]);
  return it != graph.initializers.end() && it->second.dtype() == DType::Float32 && it->second.numel() == 1 &&
         it->second.data<float>()[0] == 0.f;
}

// The weight's output-channel axis, or -1 when it is quantized per tensor.
int64_t weight_axis(const ir::Node& node, const Tensor& weight, bool per_channel) {
  if (!per_channel) return -1;
  if (node.op_type == "Conv") return 0;
  if (node.op_type == "ConvTranspose") {
    const auto it = node.attributes.find("group");
    const bool grouped = it != node.attributes.end() && std::get<int64_t>(it->second) != 1;
    return grouped ? -1 : 1;
  }
  if (weight.rank() != 2) return -1;
  if (node.op_type == "Gemm") {
    const auto it = node.attributes.find("transB");
    return it != node.attributes.end() && std::get<int64_t>(it->second) != 0 ? 0 : 1;
  }
  return 1;
}

float float_attribute(const ir::Node& node, const std::string& name, float fallback) {
  const auto it = node.attributes.find(name);
  return it == node.attributes.end() ? fallback : std::get<float>(it->second);
}

class Planner {
 public:
  Planner(const ir::Graph& graph, const QdqOptions& options) : graph_(graph), options_(options) {}

  QdqPlan plan() {
    const std::vector<size_t> order = graph_.topological_order();
    std::vector<size_t> weighted;
    for (size_t index : order)
      if (weighted_ops().count(graph_.nodes[index].op_type)) weighted.push_back(index);
    for (size_t index : order) {
      const ir::Node& node = graph_.nodes[index];
      if (excluded(node) || removed_.count(index)) continue;
      if (options_.keep_float_first_last && !weighted.empty() && (index == weighted.front() || index == weighted.back()))
        continue;
      if (weighted_ops().count(node.op_type))
        plan_weighted(index);
      else if (computing_ops().count(node.op_type))
        plan_computing(index);
      else if (data_movement_ops().count(node.op_type))
        plan_data_movement(index);
    }
    return std::move(plan_);
  }

 private:
  bool excluded(const ir::Node& node) const {
    return std::any_of(options_.exclude.begin(), options_.exclude.end(),
                       [&](const std::string& e) { return e == node.name || e == node.op_type; });
  }

  bool is_initializer(const std::string& name) const { return graph_.initializers.count(name) != 0; }

  void calibrate(const std::string& name) {
    if (ir::is_graph_output(graph_, name) || quantized_.count(name)) return;
    quantized_.insert(name);
    plan_.calibrated.push_back(name);
  }

  // The node's output, or the output of the Relu/Clip that alone reads it, which is then removed.
  void quantize_output(const ir::Node& node) {
    if (node.outputs.empty() || !is_float_activation(graph_, node.outputs[0])) return;
    const std::string& output = node.outputs[0];
    const std::vector<size_t> readers = ir::consumers_of(graph_, output);
    if (options_.activation_type == ActivationType::UInt8 && readers.size() == 1 && !ir::is_graph_output(graph_, output)) {
      const ir::Node& reader = graph_.nodes[readers[0]];
      if (clips_at_zero(graph_, reader) && !excluded(reader) && !ir::is_graph_output(graph_, reader.outputs[0])) {
        plan_.removed_activations.push_back(readers[0]);
        removed_.insert(readers[0]);
        calibrate(reader.outputs[0]);
        return;
      }
    }
    calibrate(output);
  }

  void plan_weighted(size_t index) {
    const ir::Node& node = graph_.nodes[index];
    const std::string& x = node.inputs[0];
    if (node.inputs.size() < 2 || !is_float_activation(graph_, x)) return;
    const std::string& w = node.inputs[1];
    if (node.op_type != "MatMul" && !is_initializer(w)) return;
    if (node.op_type == "Gemm" && float_attribute(node, "alpha", 1.f) != 1.f) return;
    plan_.quantized_nodes.insert(index);
    if (!is_initializer(x)) calibrate(x);
    if (const auto it = graph_.initializers.find(w); it != graph_.initializers.end()) {
      if (it->second.dtype() != DType::Float32) return;
      plan_.weights.push_back({w, weight_axis(node, it->second, options_.per_channel)});
      const bool has_bias = node.inputs.size() > 2 && is_initializer(node.inputs[2]);
      if (has_bias && !(node.op_type == "Gemm" && float_attribute(node, "beta", 1.f) != 1.f) &&
          graph_.initializers.at(node.inputs[2]).rank() == 1)
        plan_.biases.push_back({node.inputs[2], x, w});
    } else if (is_float_activation(graph_, w)) {
      calibrate(w);
    }
    quantize_output(node);
  }

  void plan_computing(size_t index) {
    const ir::Node& node = graph_.nodes[index];
    const size_t data_inputs = node.op_type == "Resize" ? 1 : node.inputs.size();
    for (size_t i = 0; i < data_inputs; ++i)
      if (is_float_activation(graph_, node.inputs[i])) calibrate(node.inputs[i]);
    plan_.quantized_nodes.insert(index);
    quantize_output(node);
  }

  void plan_data_movement(size_t index) {
    const ir::Node& node = graph_.nodes[index];
    const std::string& input = node.inputs[0];
    if (!quantized_.count(input) || node.outputs.empty() || !is_float_activation(graph_, node.outputs[0])) return;
    const std::string& output = node.outputs[0];
    if (ir::is_graph_output(graph_, output) || quantized_.count(output)) return;
    const auto shared = plan_.shared.find(input);
    plan_.shared[output] = shared == plan_.shared.end() ? input : shared->second;
    quantized_.insert(output);
    plan_.quantized_nodes.insert(index);
  }

  const ir::Graph& graph_;
  const QdqOptions& options_;
  QdqPlan plan_;
  std::set<std::string> quantized_;
  std::set<size_t> removed_;
};

}  // namespace

QdqPlan plan_qdq(const ir::Graph& graph, const QdqOptions& options) { return Planner(graph, options).plan(); }

const std::vector<std::string>& quantizable_op_types() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all;
    for (const auto* set : {&weighted_ops(), &computing_ops(), &data_movement_ops()}) all.insert(all.end(), set->begin(), set->end());
    return all;
  }();
  return names;
}

}  // namespace kiln::quant
