// Level 2: the dynamic quantization of a MatMul, as ONNX Runtime's quantize_dynamic writes it,
//   DynamicQuantizeLinear(x) -> MatMulInteger(x_q, B, x_zero_point, b_zero_point) -> Cast(float)
//     -> Mul(x_scale * b_scale)
// with a constant 8-bit B [K, N] and a constant b_scale (one value or one per column), becomes
// kiln.MatMulIntegerToFloat (com.microsoft's op of that name: A, B, a_scale, b_scale,
// a_zero_point, b_zero_point), which dequantizes in the int8 GEMM's epilogue instead of writing
// int32 sums, converting them and scaling them in two more passes. The product of each sum and its
// scale is one float multiplication either way, so the values do not change. A bias Add after it
// stays a node of its own, for the same reason.
#pragma once

#include "passes/pass.h"

namespace kiln::passes {

class FuseDynamicMatMul final : public GraphPass {
 public:
  const char* name() const override { return "FuseDynamicMatMul"; }
  int run(ir::Model& model) const override;
};

}  // namespace kiln::passes
