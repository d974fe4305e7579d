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

}  // namespace kiln::passes
