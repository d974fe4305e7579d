// Level 1: Shape(x) becomes a constant when the dims it reports are static, and Gather(Shape(x),
// constant indices) becomes one when the dims it picks are, even where other dims of x are
// symbolic (a batch size). Exporters compute Reshape targets this way; FoldConstants then folds
// the Gather/Unsqueeze/Concat chain that follows, and the Reshape sees a constant shape. Needs
// the shapes that ir::infer_shapes records before each round.
#pragma once

#include "passes/pass.h"

namespace kiln::passes {

class FoldShapes final : public GraphPass {
 public:
  const char* name() const override { return "FoldShapes"; }
  int run(ir::Model& model) const override;
};

}  // namespace kiln::passes
