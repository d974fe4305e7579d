#include "ops/cpu/fused_activation.h"

#include <limits>
#include <utility>
#include <variant>

namespace kiln::ops {
namespace {

// The names the `activation` attribute takes, as the op that was fused in is named (GeluTanh is
// Gelu with approximate = "tanh"). `plain_onnx_op`: an ai.onnx op of that name is the activation
// whatever its attributes (Gelu depends on `approximate`; GeluTanh and Silu are no ONNX ops).
struct Fusable {
  const char* name;
  kernels::ActivationKind kind;
  size_t params;
  bool plain_onnx_op;
};

constexpr Fusable kFusable[] = {
    {"Relu", kernels::ActivationKind::Relu, 0, true},
    {"Clip", kernels::ActivationKind::Clip, 2, true},
    {"LeakyRelu", kernels::ActivationKind::LeakyRelu, 1, true},
    {"Sigmoid", kernels::ActivationKind::Sigmoid, 0, true},
    {"HardSigmoid", kernels::ActivationKind::HardSigmoid, 2, true},
    {"HardSwish", kernels::ActivationKind::HardSwish, 0, true},
    {"Tanh", kernels::ActivationKind::Tanh, 0, true},
    {"Gelu", kernels::ActivationKind::Gelu, 0, false},
    {"GeluTanh", kernels::ActivationKind::GeluTanh, 0, false},
    {"Silu", kernels::ActivationKind::Silu, 0, false},
};

kernels::ActivationKind gelu_kind(const ir::Node& node) {
  const auto it = node.attributes.find("approximate");
  if (it == node.attributes.end()) return kernels::ActivationKind::Gelu;
  const auto* approximate = std::get_if<std::string>(&it->second);
  if (approximate && *approximate == "none") return kernels::ActivationKind::Gelu;
  if (approximate && *approximate == "tanh") return kernels::ActivationKind::GeluTanh;
  return kernels::ActivationKind::None;  // invalid: left to the Gelu kernel to report
}

}  // namespace

kernels::ActivationKind fusable_activation_kind(const ir::Node& node) {
  if (node.op_type == "Gelu" && (node.domain.empty() || node.domain == "kiln")) return gelu_kind(node);
  if (node.op_type == "Silu" && node.domain == "kiln") return kernels::ActivationKind::Silu;
  if (!node.domain.empty()) return kernels::ActivationKind::None;
  for (const Fusable& f : kFusable)
    if (f.plain_onnx_op && node.op_type == f.name) return f.kind;
  return kernels::ActivationKind::None;
}

const char* fused_activation_name(kernels::ActivationKind kind) {
  for (const Fusable& f : kFusable)
    if (f.kind == kind) return f.name;
  return "";
}

kernels::Activation read_fused_activation(const KernelInfo& info, const std::string& prefix) {
  const std::string name = info.attr_string(prefix + "activation", "");
  if (name.empty()) return {};
  for (const Fusable& f : kFusable) {
    if (name != f.name) continue;
    const std::vector<float> params = info.attr_floats(prefix + "activation_params", {});
    if (params.size() != f.params)
      throw Error(ErrorCode::InvalidModel, "activation " + name + " takes " + std::to_string(f.params) +
                                               " activation_params, got " + std::to_string(params.size()));
    return {f.kind, params.size() > 0 ? params[0] : 0.f, params.size() > 1 ? params[1] : 0.f};
  }
  throw Error(ErrorCode::InvalidModel, "unknown fused activation '" + name + "'");
}

}  // namespace kiln::ops
