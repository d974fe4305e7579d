#include "passes/fuse_conv_add.h"

#include "ir/graph_edit.h"
#include "passes/match.h"

namespace kiln::passes {

int FuseConvAdd::run(ir::Model& model) const {
  ir::Graph& g = model.graph;
  std::vector<size_t> fused_adds;
  for (ir::Node& conv : g.nodes) {
    const bool plain_fused = is_op(conv, "FusedConv", kKilnDomain) && !conv.attributes.count("activation");
    if (!(is_op(conv, "Conv") || plain_fused) || conv.inputs.size() > 3 || conv.outputs.size() != 1) continue;
    const auto consumer = sole_consumer(g, conv.outputs[0]);
    if (!consumer) continue;
    const ir::Node& add = g.nodes[*consumer];
    if (!is_op(add, "Add") || add.inputs.size() != 2 || add.outputs.size() != 1) continue;
    const std::string& residual = add.inputs[add.inputs[0] == conv.outputs[0] ? 1 : 0];
    if (residual == conv.outputs[0]) continue;  // Add(y, y)
    conv.inputs.resize(3);  // an absent bias stays absent
    conv.inputs.push_back(residual);
    conv.op_type = "FusedConv";
    conv.domain = kKilnDomain;
    conv.outputs[0] = add.outputs[0];
    fused_adds.push_back(*consumer);
  }
  if (fused_adds.empty()) return 0;
  ir::remove_nodes(g, fused_adds);
  import_kiln_domain(model);
  return static_cast<int>(fused_adds.size());
}

}  // namespace kiln::passes
