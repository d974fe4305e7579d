#include "passes/fuse_qdq_add.h"

#include "ir/graph_edit.h"
#include "passes/match.h"
#include "passes/qdq_match.h"

namespace kiln::passes {
namespace {

std::optional<std::vector<ir::Dim>> static_shape(const ir::Graph& g, const std::string& name) {
  const auto value = g.find_value(name);
  if (!value || !value->shape) return std::nullopt;
  for (const ir::Dim& d : *value->shape)
    if (!d.is_static()) return std::nullopt;
  return value->shape;
}

// b's dims are the last dims of a's (equal shapes included).
bool is_suffix(const std::vector<ir::Dim>& a, const std::vector<ir::Dim>& b) {
  if (b.size() > a.size()) return false;
  for (size_t i = 0; i < b.size(); ++i)
    if (a[a.size() - b.size() + i].size != b[i].size) return false;
  return true;
}

}  // namespace

int FuseQdqAdd::run(ir::Model& model) const {
  ir::Graph& g = model.graph;
  const auto producers = g.producers();
  std::vector<size_t> removed;
  int fused = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    ir::Node& add = g.nodes[i];
    if (!is_op(add, "Add") || add.inputs.size() != 2 || add.outputs.size() != 1) continue;
    auto a = dequantized_source(g, producers, add.inputs[0]);
    auto b = dequantized_source(g, producers, add.inputs[1]);
    if (!a || !b || !per_tensor_8bit(g, producers, *a) || !per_tensor_8bit(g, producers, *b)) continue;
    const auto a_shape = static_shape(g, add.inputs[0]), b_shape = static_shape(g, add.inputs[1]);
    if (!a_shape || !b_shape) continue;
    if (!is_suffix(*a_shape, *b_shape)) {
      if (!is_suffix(*b_shape, *a_shape)) continue;
      std::swap(a, b);
    }
    const auto y = sole_output_quantization(g, add.outputs[0]);
    if (!y || y->zero_point.empty() || a->zero_point.empty() || b->zero_point.empty()) continue;
    if (value_dtype(g, producers, y->zero_point) != value_dtype(g, producers, a->values)) continue;
    add.inputs = {a->values, a->scale, a->zero_point, b->values, b->scale, b->zero_point, y->scale, y->zero_point};
    add.outputs = {g.nodes[y->node].outputs[0]};
    add.op_type = "QLinearAdd";
    add.domain = kKilnDomain;
    removed.push_back(y->node);
    ++fused;
  }
  if (!fused) return 0;
  ir::remove_nodes(g, removed);
  import_kiln_domain(model);
  remove_unread(g, "DequantizeLinear");
  return fused;
}

}  // namespace kiln::passes
