#include "passes/fuse_rms_norm.h"

#include "ir/graph_edit.h"
#include "passes/match.h"

namespace kiln::passes {
int FuseRmsNorm::run(ir::Model& model) const {
  ir::Graph& g = model.graph;
  SubgraphFusion fusion(model);
  for (size_t p = 0; p < g.nodes.size(); ++p) {
    const ir::Node& square = g.nodes[p];
    const bool pow = is_op(square, "Pow") && square.inputs.size() == 2 && scalar_constant(g, square.inputs[1]) == 2.f;
    const bool mul_self = is_op(square, "Mul") && square.inputs.size() == 2 && square.inputs[0] == square.inputs[1];
    if (!(pow || mul_self) || square.outputs.size() != 1) continue;
    const std::string x = square.inputs[0];
    std::vector<size_t> matched{p};
    const auto mean = sole_consumer_of_type(g, square.outputs[0], "ReduceMean");
    if (!mean || !is_last_axis_mean(g, g.nodes[*mean])) continue;
    const auto add = sole_consumer_of_type(g, g.nodes[*mean].outputs[0], "Add");
    const auto eps_name = add ? other_operand(g.nodes[*add], g.nodes[*mean].outputs[0]) : std::nullopt;
    const auto epsilon = eps_name ? scalar_constant(g, *eps_name) : std::nullopt;
    const auto sqrt = epsilon ? sole_consumer_of_type(g, g.nodes[*add].outputs[0], "Sqrt") : std::nullopt;
    if (!sqrt) continue;
    matched.insert(matched.end(), {*mean, *add, *sqrt});
    // x / rms: Div(x, s), or Mul(x, 1 / s) with 1 / s as Reciprocal(s) or Div(1, s).
    const std::string& s = g.nodes[*sqrt].outputs[0];
    const auto reader = sole_consumer(g, s);
    if (!reader) continue;
    const ir::Node& r = g.nodes[*reader];
    std::optional<size_t> normalized;
    if (is_op(r, "Div") && r.inputs.size() == 2 && r.inputs[0] == x && r.inputs[1] == s) {
      normalized = reader;
    } else if ((is_op(r, "Reciprocal") && r.outputs.size() == 1) ||
               (is_op(r, "Div") && r.inputs.size() == 2 && r.inputs[1] == s && scalar_constant(g, r.inputs[0]) == 1.f)) {
      const auto times = sole_consumer_of_type(g, r.outputs[0], "Mul");
      if (times && other_operand(g.nodes[*times], r.outputs[0]) == x) {
        matched.push_back(*reader);
        normalized = times;
      }
    }
    if (!normalized || ir::is_graph_output(g, g.nodes[*normalized].outputs[0])) continue;
    matched.push_back(*normalized);
    const auto scaled = sole_consumer_of_type(g, g.nodes[*normalized].outputs[0], "Mul");
    const auto gamma = scaled ? other_operand(g.nodes[*scaled], g.nodes[*normalized].outputs[0]) : std::nullopt;
    const Tensor* gamma_value = gamma ? float_initializer(g, *gamma) : nullptr;
    if (!gamma_value || gamma_value->rank() != 1) continue;
    fusion.fuse(*scaled, "RMSNormalization", {x, *gamma}, {{"axis", int64_t{-1}}, {"epsilon", *epsilon}}, matched);
  }
  return fusion.finish();
}

}  // namespace kiln::passes
