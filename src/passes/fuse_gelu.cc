#include "passes/fuse_gelu.h"

#include <cmath>
#include <optional>
#include <unordered_map>

#include "ir/graph_edit.h"
#include "kernels/cpu/activation.h"
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

using Producers = std::unordered_map<std::string, size_t>;

// For Mul(c, v) or Mul(v, c) with c the one-element constant `factor` writing `value` (read by
// nothing else): v, and the Mul joins `matched`.
std::optional<std::string> scaled_by(const ir::Graph& g, const Producers& producers, const std::string& value,
                                     double factor, std::vector<size_t>& matched) {
  const auto mul = sole_producer_of_type(g, producers, value, "Mul");
  if (!mul || g.nodes[*mul].inputs.size() != 2) return std::nullopt;
  const ir::Node& node = g.nodes[*mul];
  for (size_t i = 0; i < 2; ++i) {
    if (!near(scalar_constant(g, node.inputs[i]), factor)) continue;
    matched.push_back(*mul);
    return node.inputs[1 - i];
  }
  return std::nullopt;
}

// Whether `value` is x^3 as Pow(x, 3), Mul(x, Mul(x, x)) or Mul(Mul(x, x), x).
bool is_cube_of(const ir::Graph& g, const Producers& producers, const std::string& value, const std::string& x,
                std::vector<size_t>& matched) {
  if (const auto pow = sole_producer_of_type(g, producers, value, "Pow")) {
    const ir::Node& node = g.nodes[*pow];
    if (node.inputs.size() != 2 || node.inputs[0] != x || !near(scalar_constant(g, node.inputs[1]), 3.0)) return false;
    matched.push_back(*pow);
    return true;
  }
  const auto cube = sole_producer_of_type(g, producers, value, "Mul");
  const auto square_of_x = cube ? other_operand(g.nodes[*cube], x) : std::nullopt;
  const auto square = square_of_x ? sole_producer_of_type(g, producers, *square_of_x, "Mul") : std::nullopt;
  if (!square || g.nodes[*square].inputs != std::vector<std::string>{x, x}) return false;
  matched.push_back(*cube);
  matched.push_back(*square);
  return true;
}

// GELU's inner argument, from the node computing erf(x / sqrt 2) or tanh(sqrt(2 / pi) * (x + 0.044715 x^3)):
// x, the form, and the inner nodes in `matched`.
struct GeluInner {
  std::string x;
  bool tanh_form = false;
};

std::optional<GeluInner> gelu_inner(const ir::Graph& g, const Producers& producers, const ir::Node& node,
                                    std::vector<size_t>& matched) {
  if (node.inputs.size() != 1 || node.outputs.size() != 1) return std::nullopt;
  const auto producer = producers.find(node.inputs[0]);
  if (producer == producers.end() || !sole_consumer(g, node.inputs[0])) return std::nullopt;
  if (is_op(node, "Erf")) {
    const auto x = scaled_input(g, g.nodes[producer->second]);
    if (!x) return std::nullopt;
    matched.push_back(producer->second);
    return GeluInner{*x, false};
  }
  if (!is_op(node, "Tanh")) return std::nullopt;
  const auto sum = scaled_by(g, producers, node.inputs[0], kernels::kSqrtTwoOverPi, matched);
  const auto add = sum ? sole_producer_of_type(g, producers, *sum, "Add") : std::nullopt;
  if (!add || g.nodes[*add].inputs.size() != 2) return std::nullopt;
  matched.push_back(*add);
  for (size_t i = 0; i < 2; ++i) {
    const std::string& x = g.nodes[*add].inputs[i];
    std::vector<size_t> cubic;
    const auto cube = scaled_by(g, producers, g.nodes[*add].inputs[1 - i], kernels::kGeluCubic, cubic);
    if (!cube || !is_cube_of(g, producers, *cube, x, cubic)) continue;
    matched.insert(matched.end(), cubic.begin(), cubic.end());
    return GeluInner{x, true};
  }
  return std::nullopt;
}

}  // namespace

int FuseGelu::run(ir::Model& model) const {
  ir::Graph& g = model.graph;
  const auto producers = g.producers();
  SubgraphFusion fusion(model);
  for (size_t e = 0; e < g.nodes.size(); ++e) {
    std::vector<size_t> matched;
    const auto inner = gelu_inner(g, producers, g.nodes[e], matched);
    if (!inner) continue;
    const std::string& x = inner->x;
    const ir::Node& activation = g.nodes[e];
    const auto plus_one = sole_consumer_of_type(g, activation.outputs[0], "Add");
    const auto one = plus_one ? other_operand(g.nodes[*plus_one], activation.outputs[0]) : std::nullopt;
    if (!one || !near(scalar_constant(g, *one), 1.0)) continue;
    const std::string& a = g.nodes[*plus_one].outputs[0];
    const auto first = sole_consumer_of_type(g, a, "Mul");
    const auto other = first ? other_operand(g.nodes[*first], a) : std::nullopt;
    if (!other) continue;
    matched.push_back(e);
    matched.push_back(*plus_one);
    const std::string& product = g.nodes[*first].outputs[0];
    std::optional<size_t> last;
    if (*other == x || near(scalar_constant(g, *other), 0.5)) {
      // Mul(Mul(x, a), 0.5) or Mul(Mul(a, 0.5), x): one more Mul, by what the first one lacks.
      const auto outer = sole_consumer_of_type(g, product, "Mul");
      const auto outer_other = outer ? other_operand(g.nodes[*outer], product) : std::nullopt;
      if (outer_other && (*other == x ? near(scalar_constant(g, *outer_other), 0.5) : *outer_other == x)) {
        matched.push_back(*first);
        last = outer;
      }
    } else if (const auto half = producers.find(*other); half != producers.end() && sole_consumer(g, *other)) {
      // Mul(Mul(x, 0.5), a)
      const ir::Node& h = g.nodes[half->second];
      const auto h_other = is_op(h, "Mul") ? other_operand(h, x) : std::nullopt;
      if (h_other && near(scalar_constant(g, *h_other), 0.5)) {
        matched.push_back(half->second);
        last = first;
      }
    }
    if (!last) continue;
    std::map<std::string, ir::Attribute> attributes;
    if (inner->tanh_form) attributes["approximate"] = std::string("tanh");
    fusion.fuse(*last, "Gelu", {x}, std::move(attributes), matched);
  }
  return fusion.finish();
}

}  // namespace kiln::passes
