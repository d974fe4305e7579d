#include "passes/fuse_silu.h"

#include "passes/match.h"

namespace kiln::passes {

int FuseSilu::run(ir::Model& model) const {
  ir::Graph& g = model.graph;
  SubgraphFusion fusion(model);
  for (size_t s = 0; s < g.nodes.size(); ++s) {
    const ir::Node& sigmoid = g.nodes[s];
    if (!is_op(sigmoid, "Sigmoid") || sigmoid.inputs.size() != 1 || sigmoid.outputs.size() != 1) continue;
    const auto mul = sole_consumer_of_type(g, sigmoid.outputs[0], "Mul");
    if (!mul || other_operand(g.nodes[*mul], sigmoid.outputs[0]) != sigmoid.inputs[0]) continue;
    fusion.fuse(*mul, "Silu", {sigmoid.inputs[0]}, {}, {s});
  }
  return fusion.finish();
}

}  // namespace kiln::passes
