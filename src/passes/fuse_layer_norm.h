// Level 2: LayerNormalization as exporters write it before opset 17,
//   mean = ReduceMean(x, axes = [-1]);  d = Sub(x, mean);  var = ReduceMean(Pow(d, 2), axes = [-1])
//   y = Add(Mul(Div(d, Sqrt(Add(var, epsilon))), gamma), beta)      (Mul(d, d) for the Pow too)
// =>  kiln.LayerNormalization(x, gamma, beta, axis = -1, epsilon): one pass over each row instead
// of nine over the tensor. gamma and beta must be constant vectors, and every intermediate read
// by the pattern alone.
#pragma once

#include "passes/pass.h"

namespace kiln::passes {

class FuseLayerNorm final : public GraphPass {
 public:
  const char* name() const override { return "FuseLayerNorm"; }
  int run(ir::Model& model) const override;
};

}  // namespace kiln::passes
