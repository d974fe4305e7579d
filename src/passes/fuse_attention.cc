#include "passes/fuse_attention.h"

#include <algorithm>
#include <optional>
#include <unordered_map>

#include "ir/graph_edit.h"
#include "passes/match.h"

namespace kiln::passes {
namespace {

using Producers = std::unordered_map<std::string, size_t>;

// A Reshape target's entries: 0 (copy), -1 (inferred, at most one) or a size.
std::optional<std::vector<int64_t>> reshape_target(const ir::Graph& g, const ir::Node& reshape, size_t rank) {
  if (reshape.inputs.size() != 2 || attribute<int64_t>(reshape, "allowzero").value_or(0) != 0) return std::nullopt;
  const Tensor* target = constant_value(g, reshape.inputs[1]);
  if (!target || target->dtype() != DType::Int64 || target->rank() != 1 || target->numel() != static_cast<int64_t>(rank))
    return std::nullopt;
  std::vector<int64_t> dims(target->data<int64_t>(), target->data<int64_t>() + rank);
  if (std::count(dims.begin(), dims.end(), -1) > 1 ||
      std::any_of(dims.begin(), dims.end(), [](int64_t d) { return d < -1; }))
    return std::nullopt;
  return dims;
}

// Transpose(Reshape(source, [d0, d1, heads, head_size]), perm), each read by the next alone.
struct HeadSplit {
  std::string source;
  int64_t d0, d1, heads, head_size;
  std::vector<size_t> nodes;
};

std::optional<HeadSplit> head_split(const ir::Graph& g, const Producers& producers, const std::string& value,
                                    const std::vector<int64_t>& perm) {
  const auto transpose = sole_producer_of_type(g, producers, value, "Transpose");
  if (!transpose || attribute<std::vector<int64_t>>(g.nodes[*transpose], "perm") != perm) return std::nullopt;
  const auto reshape = sole_producer_of_type(g, producers, g.nodes[*transpose].inputs[0], "Reshape");
  if (!reshape) return std::nullopt;
  const auto dims = reshape_target(g, g.nodes[*reshape], 4);
  if (!dims || (*dims)[2] <= 0 || (*dims)[3] <= 0) return std::nullopt;
  return HeadSplit{g.nodes[*reshape].inputs[0], (*dims)[0], (*dims)[1], (*dims)[2], (*dims)[3], {*reshape, *transpose}};
}

// MatMul(Qh, Kt), optionally divided or multiplied by a scalar constant, computing `value`, each
// node read by the next alone.
struct ScoredProduct {
  size_t matmul;
  float scale;
  std::vector<size_t> nodes;  // the MatMul and the scaling node, if any
};

std::optional<ScoredProduct> scores_of(const ir::Graph& g, const Producers& producers, const std::string& value) {
  ScoredProduct scored{0, 1.f, {}};
  std::string scores = value;
  for (const char* op : {"Div", "Mul"}) {
    const auto node = sole_producer_of_type(g, producers, value, op);
    if (!node || g.nodes[*node].inputs.size() != 2) continue;
    const ir::Node& n = g.nodes[*node];
    const size_t constant_side = is_op(n, "Div") || scalar_constant(g, n.inputs[1]) ? 1 : 0;
    const auto c = scalar_constant(g, n.inputs[constant_side]);
    if (!c || *c == 0.f) return std::nullopt;
    scored.scale = is_op(n, "Div") ? 1.f / *c : *c;
    scores = n.inputs[1 - constant_side];
    scored.nodes.push_back(*node);
  }
  const auto matmul = sole_producer_of_type(g, producers, scores, "MatMul");
  if (!matmul) return std::nullopt;
  scored.matmul = *matmul;
  scored.nodes.push_back(*matmul);
  return scored;
}

bool is_last_axis_softmax(const ir::Model& model, const ir::Node& node) {
  if (!is_op(node, "Softmax") || node.inputs.size() != 1 || node.outputs.size() != 1) return false;
  const auto axis = attribute<int64_t>(node, "axis");
  return axis ? *axis == -1 || *axis == 3 : model.opset("") >= 13;
}

}  // namespace

int FuseAttention::run(ir::Model& model) const {
  ir::Graph& g = model.graph;
  const Producers producers = g.producers();
  SubgraphFusion fusion(model);
  for (size_t si = 0; si < g.nodes.size(); ++si) {
    const ir::Node& softmax = g.nodes[si];
    if (!is_last_axis_softmax(model, softmax)) continue;
    std::vector<size_t> matched{si};
    // Back from the softmax: the scores, or an Add of the scores and a mask (either side).
    std::string mask;
    auto scored = scores_of(g, producers, softmax.inputs[0]);
    if (const auto add = scored ? std::nullopt : sole_producer_of_type(g, producers, softmax.inputs[0], "Add")) {
      const ir::Node& a = g.nodes[*add];
      for (size_t side = 0; side < 2 && !scored && a.inputs.size() == 2 && a.inputs[0] != a.inputs[1]; ++side)
        if ((scored = scores_of(g, producers, a.inputs[side]))) {
          mask = a.inputs[1 - side];
          matched.push_back(*add);
        }
    }
    if (!scored) continue;
    const float scale = scored->scale;
    const size_t qk = scored->matmul;
    matched.insert(matched.end(), scored->nodes.begin(), scored->nodes.end());
    const auto pv = sole_consumer(g, softmax.outputs[0]);
    if (!pv || !is_op(g.nodes[*pv], "MatMul") || g.nodes[*pv].inputs[0] != softmax.outputs[0]) continue;
    matched.push_back(*pv);
    const auto q = head_split(g, producers, g.nodes[qk].inputs[0], {0, 2, 1, 3});
    const auto k = head_split(g, producers, g.nodes[qk].inputs[1], {0, 2, 3, 1});
    const auto v = head_split(g, producers, g.nodes[*pv].inputs[1], {0, 2, 1, 3});
    if (!q || !k || !v || k->heads != q->heads || v->heads != q->heads || k->head_size != q->head_size ||
        v->head_size != q->head_size)
      continue;
    // Forward from P V: back to [batch, seq, heads * head_size].
    const auto merge = sole_consumer(g, g.nodes[*pv].outputs[0]);
    if (!merge || !is_op(g.nodes[*merge], "Transpose") ||
        attribute<std::vector<int64_t>>(g.nodes[*merge], "perm") != std::vector<int64_t>{0, 2, 1, 3})
      continue;
    const auto flatten = sole_consumer(g, g.nodes[*merge].outputs[0]);
    if (!flatten || !is_op(g.nodes[*flatten], "Reshape")) continue;
    const auto out_dims = reshape_target(g, g.nodes[*flatten], 3);
    if (!out_dims || ((*out_dims)[2] != q->heads * q->head_size && (*out_dims)[2] != -1)) continue;
    matched.push_back(*merge);
    for (const HeadSplit* split : {&*q, &*k, &*v}) matched.insert(matched.end(), split->nodes.begin(), split->nodes.end());
    std::vector<std::string> inputs{q->source, k->source, v->source};
    if (!mask.empty()) inputs.push_back(mask);
    fusion.fuse(*flatten, "Attention", inputs,
                {{"num_heads", q->heads},
                 {"scale", scale},
                 {"expected_dims", std::vector<int64_t>{q->d0, q->d1, k->d0, k->d1, v->d0, v->d1, (*out_dims)[0],
                                                        (*out_dims)[1]}}},
                matched);
  }
  return fusion.finish();
}

}  // namespace kiln::passes
