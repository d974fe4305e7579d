#include "passes/drop_qdq_around_data_movement.h"

#include "ir/graph_edit.h"
#include "passes/match.h"
#include "passes/qdq_match.h"

namespace kiln::passes {
namespace {

bool moves_data(const ir::Node& node) {
  for (const char* op : {"MaxPool", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze"})
    if (is_op(node, op)) return node.outputs.size() == 1;
  return false;
}

// The same constant parameters: equal scales and equal zero points (absent ones equal to each other).
bool same_parameters(const ir::Graph& g, const Quantization& a, const Quantization& b) {
  if (a.scale_tensor->numel() != 1 || b.scale_tensor->numel() != 1) return false;
  if (a.scale_tensor->data<float>()[0] != b.scale_tensor->data<float>()[0]) return false;
  if (a.zero_point.empty() || b.zero_point.empty()) return a.zero_point.empty() && b.zero_point.empty();
  return same_tensor(g.initializers.at(a.zero_point), g.initializers.at(b.zero_point));
}

}  // namespace

int DropQdqAroundDataMovement::run(ir::Model& model) const {
  ir::Graph& g = model.graph;
  const auto producers = g.producers();
  std::vector<size_t> removed;
  for (ir::Node& node : g.nodes) {
    if (!moves_data(node) || node.inputs.empty()) continue;
    const auto dq = dequantized_source(g, producers, node.inputs[0]);
    if (!dq || !per_tensor_8bit(g, producers, *dq)) continue;
    const auto q = sole_output_quantization(g, node.outputs[0]);
    if (!q || !same_parameters(g, *dq, *q)) continue;
    node.inputs[0] = dq->values;
    node.outputs[0] = g.nodes[q->node].outputs[0];
    removed.push_back(q->node);
  }
  if (removed.empty()) return 0;
  ir::remove_nodes(g, removed);
  remove_unread(g, "DequantizeLinear");
  return static_cast<int>(removed.size());
}

}  // namespace kiln::passes
