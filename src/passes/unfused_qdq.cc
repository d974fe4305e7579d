#include "passes/unfused_qdq.h"

#include <unordered_set>

#include "ir/graph_edit.h"
#include "passes/match.h"

namespace kiln::passes {

std::vector<std::string> unfused_qdq_warnings(const ir::Graph& graph) {
  std::unordered_set<std::string> graph_inputs;
  for (const ir::Value& input : graph.inputs) graph_inputs.insert(input.name);
  const auto producers = graph.producers();
  std::vector<std::string> warnings;
  for (const ir::Node& node : graph.nodes) {
    if (is_op(node, "DequantizeLinear") && !graph.initializers.count(node.inputs[0])) {
      for (size_t reader : ir::consumers_of(graph, node.outputs[0])) {
        const ir::Node& r = graph.nodes[reader];
        if (is_op(r, "QuantizeLinear")) continue;
        warnings.push_back(node.describe() + " is not fused into an int8 kernel: " + r.describe() + " reads its float output");
        break;
      }
    } else if (is_op(node, "QuantizeLinear") && !graph_inputs.count(node.inputs[0])) {
      const auto producer = producers.find(node.inputs[0]);
      if (producer == producers.end()) continue;
      const ir::Node& p = graph.nodes[producer->second];
      if (!is_op(p, "DequantizeLinear"))
        warnings.push_back(node.describe() + " is not fused into an int8 kernel: it quantizes the float output of " +
                           p.describe());
    }
  }
  return warnings;
}

}  // namespace kiln::passes
