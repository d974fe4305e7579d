#include "passes/eliminate_common_subexpressions.h"

#include <algorithm>
#include <map>
#include <type_traits>

#include "ir/graph_edit.h"
#include "passes/match.h"

namespace kiln::passes {
namespace {

bool same_attribute(const ir::Attribute& a, const ir::Attribute& b) {
  if (a.index() != b.index()) return false;
  return std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        const T& y = std::get<T>(b);
        if constexpr (std::is_same_v<T, Tensor>)
          return same_tensor(x, y);
        else if constexpr (std::is_same_v<T, std::vector<Tensor>>)
          return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin(), same_tensor);
        else
          return x == y;  // subgraphs compare by identity, but nodes with subgraphs are never merged
      },
      a);
}

// Whether `later` can be dropped for `kept`: the same computation, and every output of `later`
// that has a name has a named counterpart in `kept` to be read instead.
bool same_computation(const ir::Node& kept, const ir::Node& later) {
  const ir::Node &a = kept, &b = later;
  for (size_t o = 0; o < b.outputs.size() && o < a.outputs.size(); ++o)
    if (!b.outputs[o].empty() && a.outputs[o].empty()) return false;
  return a.op_type == b.op_type && a.domain == b.domain && a.inputs == b.inputs &&
         a.outputs.size() == b.outputs.size() && a.attributes.size() == b.attributes.size() &&
         std::equal(a.attributes.begin(), a.attributes.end(), b.attributes.begin(), [](const auto& x, const auto& y) {
           return x.first == y.first && same_attribute(x.second, y.second);
         });
}

// Renames readers of duplicate small initializers to the first of their kind (by name order).
int merge_initializers(ir::Graph& g) {
  std::vector<std::pair<const std::string*, const Tensor*>> kept;
  std::vector<std::string> merged;
  for (const auto& [name, t] : g.initializers) {
    if (t.numel() > EliminateCommonSubexpressions::kMaxMergedInitializerElements || ir::is_graph_output(g, name))
      continue;
    const auto twin = std::find_if(kept.begin(), kept.end(), [&](const auto& k) { return same_tensor(*k.second, t); });
    if (twin == kept.end()) {
      kept.emplace_back(&name, &t);
      continue;
    }
    ir::replace_uses(g, name, *twin->first);
    merged.push_back(name);
  }
  for (const std::string& name : merged) g.initializers.erase(name);
  return static_cast<int>(merged.size());
}

}  // namespace

int EliminateCommonSubexpressions::run(ir::Model& model) const {
  ir::Graph& g = model.graph;
  int changes = merge_initializers(g);
  // Candidates bucketed by what they read, visited in topological order so that the kept node of
  // a pair comes first and merges cascade down a chain in one round.
  std::map<std::vector<std::string>, std::vector<size_t>> by_inputs;
  std::vector<size_t> removed;
  for (size_t index : g.topological_order()) {
    const ir::Node& node = g.nodes[index];
    if (is_random(node) || has_subgraph(node)) continue;
    const auto observed = [&](const std::string& o) { return ir::is_graph_output(g, o); };
    std::vector<size_t>& bucket = by_inputs[node.inputs];
    const auto kept = std::find_if(bucket.begin(), bucket.end(),
                                   [&](size_t k) { return same_computation(g.nodes[k], node); });
    // A node writing a graph output may be kept, never dropped.
    if (kept == bucket.end() || std::any_of(node.outputs.begin(), node.outputs.end(), observed)) {
      bucket.push_back(index);
      continue;
    }
    const ir::Node& original = g.nodes[*kept];
    for (size_t o = 0; o < node.outputs.size(); ++o)
      if (!node.outputs[o].empty()) ir::replace_uses(g, node.outputs[o], original.outputs[o]);
    removed.push_back(index);
  }
  ir::remove_nodes(g, removed);
  return changes + static_cast<int>(removed.size());
}

}  // namespace kiln::passes
