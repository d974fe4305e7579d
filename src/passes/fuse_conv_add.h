// Conv -> Add(., Z)  =>  kiln.FusedConv(X, W, B, Z): the residual joins the convolution's epilogue
// instead of costing another pass over memory (ResNet's shortcut, MobileNetV2's inverted
// residual). FusedConv broadcasts Z as Add would, so no shapes need to be known.
#pragma once

#include "passes/pass.h"

namespace kiln::passes {

class FuseConvAdd final : public GraphPass {
 public:
  const char* name() const override { return "FuseConvAdd"; }
  int run(ir::Model& model) const override;
};

}  // namespace kiln::passes
