#include "passes/fuse_gelu.h"

#include <cmath>
#include <optional>

#include "ir/graph_edit.h"
#include "passes/match.h"

namespace kiln::passes {
namespace {

bool near(std::optional<float> value, double expected) {
  return value && std::abs(*value - expected) <= 1e-4 * std::abs(expected);
}

// The x of x / sqrt 2 (or x * (1 / sqrt 2)) computed by `node`, or nullopt.
std::optional<std::string> scaled_input(const ir::Graph& g, const ir::Node& node) {
  if (node.inputs.size() != 2 || node.outputs.size() != 1) return std::nullopt;
  if (is_op(node, "Div") && near(scalar_constant(g, node.inputs[1]), std::sqrt(2.0))) return node.inputs[0];
  if (!is_op(node, "Mul")) return std::nullopt;
  for (size_t i = 0; i < 2; ++i)
    if (near(scalar_constant(g, node.inputs[i]), std::sqrt(0.5))) return node.inputs[1 - i];
  return std::nullopt;
}

}  // namespace

int FuseGelu::run(ir::Model& model) const {
  ir::Graph& g = model.graph;
  const auto producers = g.producers();
  SubgraphFusion fusion(model);
  for (size_t e = 0; e < g.nodes.size(); ++e) {
    const ir::Node& erf = g.nodes[e];
    if (!is_op(erf, "Erf") || erf.inputs.size() != 1 || erf.outputs.size() != 1) continue;
    const auto scale = producers.find(erf.inputs[0]);
    if (scale == producers.end() || !sole_consumer(g, erf.inputs[0])) continue;
    const auto x = scaled_input(g, g.nodes[scale->second]);
    if (!x) continue;
    const auto plus_one = sole_consumer_of_type(g, erf.outputs[0], "Add");
    const auto one = plus_one ? other_operand(g.nodes[*plus_one], erf.outputs[0]) : std::nullopt;
    if (!one || !near(scalar_constant(g, *one), 1.0)) continue;
    const std::string& a = g.nodes[*plus_one].outputs[0];
    const auto first = sole_consumer_of_type(g, a, "Mul");
    const auto other = first ? other_operand(g.nodes[*first], a) : std::nullopt;
    if (!other) continue;
    std::vector<size_t> matched{scale->second, e, *plus_one};
    const std::string& product = g.nodes[*first].outputs[0];
    std::optional<size_t> last;
    if (*other == *x || near(scalar_constant(g, *other), 0.5)) {
      // Mul(Mul(x, a), 0.5) or Mul(Mul(a, 0.5), x): one more Mul, by what the first one lacks.
      const auto outer = sole_consumer_of_type(g, product, "Mul");
      const auto outer_other = outer ? other_operand(g.nodes[*outer], product) : std::nullopt;
      if (outer_other && (*other == *x ? near(scalar_constant(g, *outer_other), 0.5) : *outer_other == *x)) {
        matched.push_back(*first);
        last = outer;
      }
    } else if (const auto half = producers.find(*other); half != producers.end() && sole_consumer(g, *other)) {
      // Mul(Mul(x, 0.5), a)
      const ir::Node& h = g.nodes[half->second];
      const auto h_other = is_op(h, "Mul") ? other_operand(h, *x) : std::nullopt;
      if (h_other && near(scalar_constant(g, *h_other), 0.5)) {
        matched.push_back(half->second);
        last = first;
      }
    }
    if (!last) continue;
    fusion.fuse(*last, "Gelu", {*x}, {}, matched);
  }
  return fusion.finish();
}

}  // namespace kiln::passes
