// The activation a fused node (kiln.FusedConv, kiln.FusedGemm, kiln.FusedMatMul) applies to its
// result: attribute `activation` names the ONNX op that was fused in, `activation_params` holds
// its float parameters (Clip: min, max; LeakyRelu: alpha; HardSigmoid: alpha, beta).
#pragma once

#include <string>
#include <vector>

#include "kernels/cpu/activation.h"
#include "ops/kernel.h"

namespace kiln::ops {

// The activation kind of op `op_type` of `domain` ("" for ai.onnx); None for ops that cannot be
// fused. Gelu fuses from ONNX (opset 20; its caller checks that approximate is "none") and from
// the kiln domain (FuseGelu's), Silu only from the kiln domain (FuseSilu's).
kernels::ActivationKind fusable_activation_kind(const std::string& domain, const std::string& op_type);

// Reads `activation` / `activation_params` (each name after `prefix`, for ops that fuse two
// activations); None when absent. Throws InvalidModel on an unknown activation or a wrong
// parameter count.
kernels::Activation read_fused_activation(const KernelInfo& info, const std::string& prefix = "");

}  // namespace kiln::ops
