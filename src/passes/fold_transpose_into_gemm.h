// Level 1: Transpose(x, perm = [1, 0]) -> Gemm input A or B  =>  Gemm reading x with transA or
// transB flipped: the GEMM reads the matrix either way round at no cost, and the copy is saved.
// The Transpose stays when something else reads its result.
#pragma once

#include "passes/pass.h"

namespace kiln::passes {

class FoldTransposeIntoGemm final : public GraphPass {
 public:
  const char* name() const override { return "FoldTransposeIntoGemm"; }
  int run(ir::Model& model) const override;
};

}  // namespace kiln::passes
