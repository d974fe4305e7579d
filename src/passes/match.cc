#include "passes/match.h"

#include "ir/graph_edit.h"

namespace kiln::passes {

std::optional<size_t> sole_consumer(const ir::Graph& graph, const std::string& value) {
  if (ir::is_graph_output(graph, value)) return std::nullopt;
  const auto consumers = ir::consumers_of(graph, value);
  if (consumers.size() != 1) return std::nullopt;
  return consumers[0];
}

bool is_op(const ir::Node& node, const char* op_type, const char* domain) {
  return node.op_type == op_type && node.domain == domain;
}

const Tensor* constant_value(const ir::Graph& graph, const std::string& name) {
  if (const auto it = graph.initializers.find(name); it != graph.initializers.end()) return &it->second;
  for (const ir::Node& node : graph.nodes) {
    if (!is_op(node, "Constant") || node.outputs.size() != 1 || node.outputs[0] != name) continue;
    const auto value = node.attributes.find("value");
    return value == node.attributes.end() ? nullptr : std::get_if<Tensor>(&value->second);
  }
  return nullptr;
}

}  // namespace kiln::passes
