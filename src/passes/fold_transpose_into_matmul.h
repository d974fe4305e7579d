// Level 2: a float32 MatMul (or kiln.FusedMatMul) operand written by a Transpose that swaps only
// its last two axes  =>  kiln.FusedMatMul with transA / transB flipped, reading the Transpose's
// input in place: the packed GEMM reads a transposed matrix at the cost of its packing, while the
// Transpose writes the whole operand out (ONNX Runtime's MatMul + Transpose fusion). Products of
// two known 2-D operands became Gemm at level 1 (ConvertMatMulToGemm); this takes the rest,
// batched ones included. The Transpose stays when something else reads its result.
#pragma once

#include "passes/pass.h"

namespace kiln::passes {

class FoldTransposeIntoMatMul final : public GraphPass {
 public:
  const char* name() const override { return "FoldTransposeIntoMatMul"; }
  int run(ir::Model& model) const override;
};

}  // namespace kiln::passes
