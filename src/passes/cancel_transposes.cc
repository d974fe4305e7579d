#include "passes/cancel_transposes.h"

#include "ir/graph_edit.h"
#include "passes/match.h"

namespace kiln::passes {

int CancelTransposes::run(ir::Model& model) const {
  ir::Graph& g = model.graph;
  const auto producers = g.producers();
  std::vector<size_t> removed;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    ir::Node& outer = g.nodes[i];
    if (!is_op(outer, "Transpose") || outer.inputs.size() != 1 || outer.outputs.size() != 1) continue;
    const auto producer = producers.find(outer.inputs[0]);
    if (producer == producers.end()) continue;
    const size_t inner_index = producer->second;
    const ir::Node& inner = g.nodes[inner_index];
    const auto p = attribute<std::vector<int64_t>>(inner, "perm"), q = attribute<std::vector<int64_t>>(outer, "perm");
    if (!is_op(inner, "Transpose") || inner.inputs.size() != 1 || !p || !q || p->size() != q->size()) continue;
    const bool inner_shared = !sole_consumer(g, inner.outputs[0]);
    std::vector<int64_t> composed(q->size());
    bool identity = true, valid = true;
    for (size_t k = 0; k < q->size() && valid; ++k) {
      const int64_t qk = (*q)[k];
      valid = qk >= 0 && qk < static_cast<int64_t>(p->size());
      composed[k] = valid ? (*p)[static_cast<size_t>(qk)] : 0;
      identity = identity && composed[k] == static_cast<int64_t>(k);
    }
    if (!valid) continue;  // the kernel reports the bad permutation
    const std::string source = inner.inputs[0], output = outer.outputs[0];
    if (identity) {
      // The pair's readers read the source; the inner Transpose stays for its other readers.
      if (!ir::bypass(g, output, source)) continue;
      removed.push_back(i);
      if (!inner_shared) removed.push_back(inner_index);
      continue;
    }
    if (inner_shared) continue;  // another reader needs the inner result: composing would save nothing
    outer.inputs[0] = source;
    outer.attributes["perm"] = composed;
    removed.push_back(inner_index);
  }
  ir::remove_nodes(g, removed);
  // A shared inner Transpose whose readers all cancelled it is read by no one now.
  const size_t before = g.nodes.size();
  remove_unread(g, "Transpose");
  return static_cast<int>(removed.size() + before - g.nodes.size());
}

}  // namespace kiln::passes
