#include "passes/fuse_skip_layer_norm.h"

#include "ir/graph_edit.h"
#include "passes/match.h"

namespace kiln::passes {

int FuseSkipLayerNorm::run(ir::Model& model) const {
  ir::Graph& g = model.graph;
  const auto producers = g.producers();
  std::vector<size_t> fused;
  for (ir::Node& norm : g.nodes) {
    if (!is_op(norm, "LayerNormalization", kKilnDomain) || norm.inputs.size() != 3 || norm.outputs.size() != 1) continue;
    const auto producer = producers.find(norm.inputs[0]);
    if (producer == producers.end() || !sole_consumer(g, norm.inputs[0])) continue;
    const ir::Node& add = g.nodes[producer->second];
    if (!is_op(add, "Add") || add.inputs.size() != 2 || add.inputs[0].empty() || add.inputs[1].empty()) continue;
    norm.inputs = {add.inputs[0], norm.inputs[1], norm.inputs[2], add.inputs[1]};
    fused.push_back(producer->second);
  }
  ir::remove_nodes(g, fused);
  return static_cast<int>(fused.size());
}

}  // namespace kiln::passes
