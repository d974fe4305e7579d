// The activation a fused node (kiln.FusedConv, kiln.FusedGemm, kiln.FusedMatMul) applies to its
// result: attribute `activation` names the op that was fused in (GeluTanh for a Gelu with
// approximate = "tanh"), `activation_params` holds its float parameters (Clip: min, max;
// LeakyRelu: alpha; HardSigmoid: alpha, beta).
#pragma once

#include <string>
#include <vector>

#include "kernels/cpu/activation.h"
#include "ops/kernel.h"

namespace kiln::ops {

// The activation `node` computes, or None when it cannot be fused. Gelu fuses from ONNX (opset 20)
// and from the kiln domain (FuseGelu's), in either form; Silu only from the kiln domain (FuseSilu's).
kernels::ActivationKind fusable_activation_kind(const ir::Node& node);
// The `activation` attribute's value for `kind`.
const char* fused_activation_name(kernels::ActivationKind kind);

// Reads `activation` / `activation_params` (each name after `prefix`, for ops that fuse two
// activations); None when absent. Throws InvalidModel on an unknown activation or a wrong
// parameter count.
kernels::Activation read_fused_activation(const KernelInfo& info, const std::string& prefix = "");

}  // namespace kiln::ops
