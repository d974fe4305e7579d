// Level 2: RMSNormalization as Llama-family exports write it,
//   y = Mul(Mul(x, r), gamma)  with  r = Reciprocal(Sqrt(Add(ReduceMean(Pow(x, 2), axes = [-1]), eps)))
// (Div(1, Sqrt(...)) for the Reciprocal, or Div(x, Sqrt(...)) for the first Mul; Mul(x, x) for the
// Pow)  =>  kiln.RMSNormalization(x, gamma, axis = -1, epsilon). gamma must be a constant vector
// and every intermediate read by the pattern alone.
#pragma once

#include "passes/pass.h"

namespace kiln::passes {

class FuseRmsNorm final : public GraphPass {
 public:
  const char* name() const override { return "FuseRmsNorm"; }
  int run(ir::Model& model) const override;
};

}  // namespace kiln::passes
