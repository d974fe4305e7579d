// Level 1: MatMul(A, W) -> Mul or Div by a constant c, with W a constant float32 matrix [K, N] and
// c a scalar or a vector [N] (Div: without zeros)  =>  MatMul(A, W') with W'[k, n] = W[k, n] * c[n]
// (or / c[n]): the scaling costs nothing at run time. W' gets a fresh name, as W may have other
// readers.
#pragma once

#include "passes/pass.h"

namespace kiln::passes {

class FoldMatMulScale final : public GraphPass {
 public:
  const char* name() const override { return "FoldMatMulScale"; }
  int run(ir::Model& model) const override;
};

}  // namespace kiln::passes
