// Conv / kiln.FusedConv / Gemm -> activation  =>  kiln.FusedConv / kiln.FusedGemm with the
// activation in the GEMM epilogue, applied to each tile while it is in cache. Fuses Relu, Clip
// (with constant bounds), LeakyRelu, Sigmoid, HardSigmoid, HardSwish and Tanh.
#pragma once

#include "passes/pass.h"

namespace kiln::passes {

class FuseActivation final : public GraphPass {
 public:
  const char* name() const override { return "FuseActivation"; }
  int run(ir::Model& model) const override;
};

}  // namespace kiln::passes
