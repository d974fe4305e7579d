// Level 1: a MatMul of two float32 matrices (both known 2-D) becomes Gemm where Gemm can take in
// what surrounds it:
//   MatMul(A, B) -> Add(., C)            =>  Gemm(A, B, C)   C a constant of shape [N], [1, N],
//                                                            [M, 1], [M, N] or a scalar
//   MatMul(Transpose(A, [1, 0]), B)      =>  Gemm(Transpose(A), B), which FoldTransposeIntoGemm
//                                            (after it) turns into Gemm(A, B, transA=1); B likewise
// Batched (3-D and up) MatMuls stay: FuseMatMulBias (level 2) fuses their bias at any rank, and
// it sees no 2-D MatMul with a bias once this has run; FuseActivation fuses a Gemm's activation
// as it does a MatMul's.
#pragma once

#include "passes/pass.h"

namespace kiln::passes {

class ConvertMatMulToGemm final : public GraphPass {
 public:
  const char* name() const override { return "ConvertMatMulToGemm"; }
  int run(ir::Model& model) const override;
};

}  // namespace kiln::passes
