#include "passes/eliminate_no_ops.h"

#include "ir/graph_edit.h"
#include "passes/match.h"

namespace kiln::passes {
namespace {

bool is_inference_dropout(const ir::Graph& g, const ir::Node& node) {
  if (!is_op(node, "Dropout")) return false;
  if (node.outputs.size() > 1 && !node.outputs[1].empty() &&
      (ir::is_graph_output(g, node.outputs[1]) || !ir::consumers_of(g, node.outputs[1]).empty()))
    return false;
  if (node.inputs.size() < 3 || node.inputs[2].empty()) return true;
  const Tensor* training = constant_value(g, node.inputs[2]);
  return training && training->dtype() == DType::Bool && training->numel() == 1 && !training->data<bool>()[0];
}

bool is_identity_permutation(const ir::Node& node) {
  const auto perm = attribute<std::vector<int64_t>>(node, "perm");
  if (!perm) return false;
  for (size_t i = 0; i < perm->size(); ++i)
    if ((*perm)[i] != static_cast<int64_t>(i)) return false;
  return true;
}

// Positive steps: a Slice that keeps every dim's size then keeps every element in place (a
// negative step would reverse the axis).
bool has_positive_steps(const ir::Graph& g, const ir::Node& node) {
  if (node.inputs.size() < 5 || node.inputs[4].empty()) return true;
  const Tensor* steps = constant_value(g, node.inputs[4]);
  if (!steps || (steps->dtype() != DType::Int64 && steps->dtype() != DType::Int32)) return false;
  for (int64_t step : steps->to_int64_vector())
    if (step <= 0) return false;
  return true;
}

// Ops that move no element (the row-major order stays) or choose all of them, when their
// output's static shape is their input's.
bool keeps_static_shape(const ir::Graph& g, const ir::Node& node) {
  const bool candidate = is_op(node, "Reshape") || is_op(node, "Expand") || is_op(node, "Flatten") ||
                         is_op(node, "Squeeze") || is_op(node, "Unsqueeze") ||
                         (is_op(node, "Slice") && has_positive_steps(g, node));
  if (!candidate) return false;
  const auto input = g.find_value(node.inputs[0]), output = g.find_value(node.outputs[0]);
  if (!input || !output || !input->shape || !output->shape || input->shape->size() != output->shape->size()) return false;
  for (size_t i = 0; i < input->shape->size(); ++i) {
    const ir::Dim &a = (*input->shape)[i], &b = (*output->shape)[i];
    if (!a.is_static() || a.size != b.size) return false;
  }
  return true;
}

bool is_no_op(const ir::Graph& g, const ir::Node& node) {
  if (node.inputs.empty() || node.inputs[0].empty() || node.outputs.empty()) return false;
  if (is_op(node, "Identity")) return true;
  if (is_op(node, "Transpose")) return is_identity_permutation(node);
  if (is_op(node, "Cast")) {
    const auto input = g.find_value(node.inputs[0]);
    const auto to = attribute<int64_t>(node, "to");
    return input && to && input->dtype != DType::Undefined && static_cast<int64_t>(input->dtype) == *to;
  }
  return is_inference_dropout(g, node) || keeps_static_shape(g, node);
}

}  // namespace

int EliminateNoOps::run(ir::Model& model) const {
  ir::Graph& g = model.graph;
  std::vector<size_t> removed;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& node = g.nodes[i];
    if (!is_no_op(g, node)) continue;
    // Copies: bypass renames values in place, the node's own among them.
    const std::string output = node.outputs[0], input = node.inputs[0];
    if (ir::bypass(g, output, input)) removed.push_back(i);
  }
  ir::remove_nodes(g, removed);
  return static_cast<int>(removed.size());
}

}  // namespace kiln::passes
