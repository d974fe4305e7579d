// Level 2: MatMul(A, W) -> Add(., b), with W a constant float32 matrix [K, N] and b a constant
// vector [N]  =>  kiln.FusedMatMul(A, W, b): the bias joins the GEMM's epilogue (a Linear layer
// as PyTorch exports it, at any rank of A). A bias of another shape could broadcast the result
// wider, so only [N] is taken.
#pragma once

#include "passes/pass.h"

namespace kiln::passes {

class FuseMatMulBias final : public GraphPass {
 public:
  const char* name() const override { return "FuseMatMulBias"; }
  int run(ir::Model& model) const override;
};

}  // namespace kiln::passes
