#include "passes/fuse_activation.h"

#include <limits>
#include <optional>

#include "ir/graph_edit.h"
#include "ops/cpu/fused_activation.h"
#include "passes/match.h"

namespace kiln::passes {
namespace {

// Clip's bound: input `index` from opset 11, an attribute before. Absent is unbounded; a bound
// computed at run time cannot be fused (nullopt).
std::optional<float> clip_bound(const ir::Model& model, const ir::Node& clip, size_t index, const char* name,
                                float unbounded) {
  if (model.opset("") < 11) return attribute<float>(clip, name).value_or(unbounded);
  if (index >= clip.inputs.size() || clip.inputs[index].empty()) return unbounded;
  const Tensor* bound = constant_value(model.graph, clip.inputs[index]);
  if (!bound || bound->dtype() != DType::Float32 || bound->numel() != 1) return std::nullopt;
  return bound->data<float>()[0];
}

// The activation_params for fusing `act`, or nullopt when it cannot be fused.
std::optional<std::vector<float>> activation_params(const ir::Model& model, const ir::Node& act) {
  if (ops::fusable_activation_kind(act) == kernels::ActivationKind::None || act.outputs.size() != 1)
    return std::nullopt;
  if (act.op_type == "Clip") {
    const auto lo = clip_bound(model, act, 1, "min", std::numeric_limits<float>::lowest());
    const auto hi = clip_bound(model, act, 2, "max", std::numeric_limits<float>::max());
    if (!lo || !hi) return std::nullopt;
    return std::vector<float>{*lo, *hi};
  }
  if (act.op_type == "LeakyRelu") return std::vector<float>{attribute<float>(act, "alpha").value_or(0.01f)};
  if (act.op_type == "HardSigmoid")
    return std::vector<float>{attribute<float>(act, "alpha").value_or(0.2f), attribute<float>(act, "beta").value_or(0.5f)};
  return std::vector<float>{};
}

// The fused op a producer becomes, or null when it is not one that takes an activation.
const char* fused_op_for(const ir::Node& node) {
  if (node.attributes.count("activation") || node.outputs.size() != 1) return nullptr;
  if (is_op(node, "Conv") || is_op(node, "FusedConv", kKilnDomain)) return "FusedConv";
  if (is_op(node, "Gemm") || is_op(node, "FusedGemm", kKilnDomain)) return "FusedGemm";
  if (is_op(node, "MatMul") || is_op(node, "FusedMatMul", kKilnDomain)) return "FusedMatMul";
  return nullptr;
}

}  // namespace

int FuseActivation::run(ir::Model& model) const {
  ir::Graph& g = model.graph;
  std::vector<size_t> fused;
  for (ir::Node& producer : g.nodes) {
    const char* fused_op = fused_op_for(producer);
    if (!fused_op) continue;
    const auto consumer = sole_consumer(g, producer.outputs[0]);
    if (!consumer) continue;
    const ir::Node& act = g.nodes[*consumer];
    const auto params = activation_params(model, act);
    if (!params) continue;
    producer.op_type = fused_op;
    producer.domain = kKilnDomain;
    producer.attributes["activation"] = std::string(ops::fused_activation_name(ops::fusable_activation_kind(act)));
    if (!params->empty()) producer.attributes["activation_params"] = *params;
    producer.outputs[0] = act.outputs[0];
    fused.push_back(*consumer);
  }
  if (fused.empty()) return 0;
  ir::remove_nodes(g, fused);
  import_kiln_domain(model);
  return static_cast<int>(fused.size());
}

}  // namespace kiln::passes
