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

bool is_no_op(const ir::Graph& g, const ir::Node& node) {
  if (node.inputs.empty() || node.inputs[0].empty() || node.outputs.empty()) return false;
  if (is_op(node, "Identity")) return true;
  if (is_op(node, "Transpose")) return is_identity_permutation(node);
  if (is_op(node, "Cast")) {
    const auto input = g.find_value(node.inputs[0]);
    const auto to = attribute<int64_t>(node, "to");
    return input && to && input->dtype != DType::Undefined && static_cast<int64_t>(input->dtype) == *to;
  }
  return is_inference_dropout(g, node);
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
