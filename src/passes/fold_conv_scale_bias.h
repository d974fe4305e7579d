// Level 1: Conv -> Mul / Div / Add / Sub by a constant that varies at most along the output
// channels (a scalar, [M, 1, 1], [1, M, 1, 1], ...)  =>  Conv with scaled weights or shifted bias.
// Sub folds only as Sub(conv, c); Div only by a constant without zeros. A constant that would
// widen the result (any other dim above 1) is left to the run.
#pragma once

#include "passes/pass.h"

namespace kiln::passes {

class FoldConvScaleBias final : public GraphPass {
 public:
  const char* name() const override { return "FoldConvScaleBias"; }
  int run(ir::Model& model) const override;
};

}  // namespace kiln::passes
