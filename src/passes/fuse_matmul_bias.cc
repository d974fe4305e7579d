#include "passes/fuse_matmul_bias.h"

#include "ir/graph_edit.h"
#include "passes/match.h"

namespace kiln::passes {

int FuseMatMulBias::run(ir::Model& model) const {
  ir::Graph& g = model.graph;
  std::vector<size_t> fused;
  for (ir::Node& matmul : g.nodes) {
    const auto consumer = weight_matmul_consumer(g, matmul);
    if (!consumer) continue;
    const Tensor* w = float_initializer(g, matmul.inputs[1]);
    const ir::Node& add = g.nodes[*consumer];
    const auto bias_name = is_op(add, "Add") ? other_operand(add, matmul.outputs[0]) : std::nullopt;
    const Tensor* bias = bias_name ? float_initializer(g, *bias_name) : nullptr;
    if (!bias || bias->rank() != 1 || bias->dim(0) != w->dim(1) || add.outputs.size() != 1) continue;
    matmul.inputs.push_back(*bias_name);
    matmul.op_type = "FusedMatMul";
    matmul.domain = kKilnDomain;
    matmul.outputs[0] = add.outputs[0];
    fused.push_back(*consumer);
  }
  ir::remove_nodes(g, fused);
  if (!fused.empty()) import_kiln_domain(model);
  return static_cast<int>(fused.size());
}

}  // namespace kiln::passes
