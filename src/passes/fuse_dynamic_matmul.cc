#include "passes/fuse_dynamic_matmul.h"

#include "ir/graph_edit.h"
#include "passes/match.h"
#include "passes/qdq_match.h"

namespace kiln::passes {
namespace {

// The constant factor `scale_product` multiplies x_scale by: Mul(x_scale, c) or Mul(c, x_scale).
std::optional<std::string> weight_scale(const ir::Graph& g, const std::unordered_map<std::string, size_t>& producers,
                                        const std::string& scale_product, const std::string& x_scale) {
  const auto it = producers.find(scale_product);
  if (it == producers.end() || !is_op(g.nodes[it->second], "Mul")) return std::nullopt;
  const auto other = other_operand(g.nodes[it->second], x_scale);
  if (!other || !float_initializer(g, *other)) return std::nullopt;
  return other;
}

}  // namespace

int FuseDynamicMatMul::run(ir::Model& model) const {
  ir::Graph& g = model.graph;
  const auto producers = g.producers();
  std::vector<size_t> removed;
  for (ir::Node& matmul : g.nodes) {
    if (!is_op(matmul, "MatMulInteger") || matmul.inputs.size() < 3 || matmul.outputs.size() != 1) continue;
    const auto quantizer = producers.find(matmul.inputs[0]);
    if (quantizer == producers.end() || !is_op(g.nodes[quantizer->second], "DynamicQuantizeLinear")) continue;
    const ir::Node& dql = g.nodes[quantizer->second];
    if (matmul.inputs[2] != dql.outputs[2]) continue;
    const auto b = g.initializers.find(matmul.inputs[1]);
    if (b == g.initializers.end() || b->second.rank() != 2 || !is_integer_8bit(b->second.dtype())) continue;
    const std::string b_zero_point = matmul.inputs.size() > 3 ? matmul.inputs[3] : "";
    if (!b_zero_point.empty() && !g.initializers.count(b_zero_point)) continue;
    const auto cast = sole_consumer_of_type(g, matmul.outputs[0], "Cast");
    if (!cast || attribute<int64_t>(g.nodes[*cast], "to").value_or(0) != static_cast<int64_t>(DType::Float32)) continue;
    const auto mul = sole_consumer_of_type(g, g.nodes[*cast].outputs[0], "Mul");
    if (!mul) continue;
    const auto scale_product = other_operand(g.nodes[*mul], g.nodes[*cast].outputs[0]);
    if (!scale_product) continue;
    const auto b_scale = weight_scale(g, producers, *scale_product, dql.outputs[1]);
    const int64_t columns = b->second.dim(1);
    if (!b_scale) continue;
    const int64_t scales = g.initializers.at(*b_scale).numel();
    if (scales != 1 && (scales != columns || g.initializers.at(*b_scale).rank() != 1)) continue;
    matmul.op_type = "MatMulIntegerToFloat";
    matmul.domain = kKilnDomain;
    matmul.inputs = {dql.outputs[0], matmul.inputs[1], dql.outputs[1], *b_scale, dql.outputs[2], b_zero_point};
    matmul.outputs = {g.nodes[*mul].outputs[0]};
    removed.push_back(*cast);
    removed.push_back(*mul);
  }
  if (removed.empty()) return 0;
  ir::remove_nodes(g, removed);
  remove_unread(g, "Mul");
  import_kiln_domain(model);
  return static_cast<int>(removed.size() / 2);
}

}  // namespace kiln::passes
