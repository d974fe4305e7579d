#include "passes/eliminate_dead_code.h"

#include <algorithm>
#include <unordered_set>

#include "ir/graph_edit.h"

namespace kiln::passes {

int EliminateDeadCode::run(ir::Model& model) const {
  ir::Graph& g = model.graph;
  // Backwards from the outputs: a node is live when something live reads one of its outputs, and
  // then what it reads is needed too, the values its subgraphs read from this graph included.
  std::unordered_set<std::string> needed;
  for (const ir::Value& output : g.outputs) needed.insert(output.name);
  const std::vector<size_t> order = g.topological_order();
  std::vector<size_t> dead;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const ir::Node& node = g.nodes[*it];
    const bool is_live = std::any_of(node.outputs.begin(), node.outputs.end(),
                                     [&](const std::string& o) { return !o.empty() && needed.count(o); });
    if (!is_live) {
      dead.push_back(*it);
      continue;
    }
    needed.insert(node.inputs.begin(), node.inputs.end());
    for (const auto& [name, attribute] : node.attributes) {
      if (const auto* sub = std::get_if<std::shared_ptr<ir::Graph>>(&attribute)) needed.merge(ir::read_values(**sub));
      if (const auto* subs = std::get_if<std::vector<std::shared_ptr<ir::Graph>>>(&attribute))
        for (const auto& s : *subs) needed.merge(ir::read_values(*s));
    }
  }
  int removed = static_cast<int>(dead.size());
  ir::remove_nodes(g, dead);
  for (auto it = g.initializers.begin(); it != g.initializers.end();)
    if (needed.count(it->first)) {
      ++it;
    } else {
      it = g.initializers.erase(it);
      ++removed;
    }
  return removed;
}

}  // namespace kiln::passes
