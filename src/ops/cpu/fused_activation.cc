#include "ops/cpu/fused_activation.h"

#include <limits>
#include <utility>

namespace kiln::ops {
namespace {

struct Fusable {
  const char* op;
  const char* domain;
  kernels::ActivationKind kind;
  size_t params;
};

constexpr Fusable kFusable[] = {
    {"Relu", "", kernels::ActivationKind::Relu, 0},
    {"Clip", "", kernels::ActivationKind::Clip, 2},
    {"LeakyRelu", "", kernels::ActivationKind::LeakyRelu, 1},
    {"Sigmoid", "", kernels::ActivationKind::Sigmoid, 0},
    {"HardSigmoid", "", kernels::ActivationKind::HardSigmoid, 2},
    {"HardSwish", "", kernels::ActivationKind::HardSwish, 0},
    {"Tanh", "", kernels::ActivationKind::Tanh, 0},
    {"Gelu", "", kernels::ActivationKind::Gelu, 0},
    {"Gelu", "kiln", kernels::ActivationKind::Gelu, 0},
    {"Silu", "kiln", kernels::ActivationKind::Silu, 0},
};

}  // namespace

kernels::ActivationKind fusable_activation_kind(const std::string& domain, const std::string& op_type) {
  for (const Fusable& f : kFusable)
    if (op_type == f.op && domain == f.domain) return f.kind;
  return kernels::ActivationKind::None;
}

kernels::Activation read_fused_activation(const KernelInfo& info, const std::string& prefix) {
  const std::string name = info.attr_string(prefix + "activation", "");
  if (name.empty()) return {};
  for (const Fusable& f : kFusable) {
    if (name != f.op) continue;
    const std::vector<float> params = info.attr_floats(prefix + "activation_params", {});
    if (params.size() != f.params)
      throw Error(ErrorCode::InvalidModel, "activation " + name + " takes " + std::to_string(f.params) +
                                               " activation_params, got " + std::to_string(params.size()));
    return {f.kind, params.size() > 0 ? params[0] : 0.f, params.size() > 1 ? params[1] : 0.f};
  }
  throw Error(ErrorCode::InvalidModel, "unknown fused activation '" + name + "'");
}

}  // namespace kiln::ops
