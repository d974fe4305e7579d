#include "passes/fuse_layer_norm.h"

#include <algorithm>

#include "ir/graph_edit.h"
#include "passes/match.h"

namespace kiln::passes {
namespace {

// The node reading `value` alone when it is `op_type`, recorded in `matched`; null otherwise.
const ir::Node* matched_consumer(const ir::Graph& g, const std::string& value, const char* op_type,
                                 std::vector<size_t>& matched) {
  const auto consumer = sole_consumer_of_type(g, value, op_type);
  if (!consumer) return nullptr;
  matched.push_back(*consumer);
  return &g.nodes[*consumer];
}

const Tensor* constant_vector(const ir::Graph& g, const std::optional<std::string>& name) {
  const Tensor* t = name ? float_initializer(g, *name) : nullptr;
  return t && t->rank() == 1 ? t : nullptr;
}

}  // namespace

int FuseLayerNorm::run(ir::Model& model) const {
  ir::Graph& g = model.graph;
  SubgraphFusion fusion(model);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& mean = g.nodes[i];
    if (!is_last_axis_mean(g, mean) || mean.inputs.empty()) continue;
    const std::string x = mean.inputs[0];
    std::vector<size_t> matched{i};
    const ir::Node* sub = matched_consumer(g, mean.outputs[0], "Sub", matched);
    if (!sub || sub->inputs[0] != x || sub->inputs[1] != mean.outputs[0]) continue;
    const std::string& d = sub->outputs[0];
    // d has exactly two readers: the square and the division.
    const auto readers = ir::consumers_of(g, d);
    if (readers.size() != 2 || ir::is_graph_output(g, d)) continue;
    const auto is_square = [&](size_t k) {
      const ir::Node& n = g.nodes[k];
      return (is_op(n, "Pow") && n.inputs.size() == 2 && n.inputs[0] == d && scalar_constant(g, n.inputs[1]) == 2.f) ||
             (is_op(n, "Mul") && n.inputs.size() == 2 && n.inputs[0] == d && n.inputs[1] == d);
    };
    const size_t square_index = is_square(readers[0]) ? readers[0] : readers[1];
    const size_t div_index = square_index == readers[0] ? readers[1] : readers[0];
    if (!is_square(square_index) || !is_op(g.nodes[div_index], "Div") || g.nodes[div_index].inputs[0] != d) continue;
    matched.push_back(square_index);
    const ir::Node* var = matched_consumer(g, g.nodes[square_index].outputs[0], "ReduceMean", matched);
    if (!var || !is_last_axis_mean(g, *var)) continue;
    const ir::Node* add_eps = matched_consumer(g, var->outputs[0], "Add", matched);
    const auto eps_name = add_eps ? other_operand(*add_eps, var->outputs[0]) : std::nullopt;
    const auto epsilon = eps_name ? scalar_constant(g, *eps_name) : std::nullopt;
    if (!epsilon) continue;
    const ir::Node* sqrt = matched_consumer(g, add_eps->outputs[0], "Sqrt", matched);
    if (!sqrt) continue;
    const ir::Node& div = g.nodes[div_index];
    if (div.inputs[1] != sqrt->outputs[0] || ir::consumers_of(g, sqrt->outputs[0]).size() != 1 ||
        ir::is_graph_output(g, sqrt->outputs[0]))
      continue;
    matched.push_back(div_index);
    const ir::Node* mul = matched_consumer(g, div.outputs[0], "Mul", matched);
    const Tensor* gamma = mul ? constant_vector(g, other_operand(*mul, div.outputs[0])) : nullptr;
    if (!gamma) continue;
    const ir::Node* add = matched_consumer(g, mul->outputs[0], "Add", matched);
    const Tensor* beta = add ? constant_vector(g, other_operand(*add, mul->outputs[0])) : nullptr;
    if (!beta || beta->dim(0) != gamma->dim(0)) continue;
    const std::string gamma_name = *other_operand(*mul, div.outputs[0]);
    const std::string beta_name = *other_operand(*add, mul->outputs[0]);
    const size_t last = matched.back();
    matched.pop_back();
    fusion.fuse(last, "LayerNormalization", {x, gamma_name, beta_name}, {{"axis", int64_t{-1}}, {"epsilon", *epsilon}},
                matched);
  }
  return fusion.finish();
}

}  // namespace kiln::passes
