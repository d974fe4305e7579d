// Level 2: Add(a, b) -> kiln.LayerNormalization  =>  kiln.LayerNormalization(a, gamma, beta, b),
// the "skip" (residual) input added in the same pass over each row: a transformer's residual
// connection before each of its norms (ONNX Runtime's SkipLayerNormalization). The kernel adds
// as Add would, broadcasting, so no shapes need to be known.
#pragma once

#include "passes/pass.h"

namespace kiln::passes {

class FuseSkipLayerNorm final : public GraphPass {
 public:
  const char* name() const override { return "FuseSkipLayerNorm"; }
  int run(ir::Model& model) const override;
};

}  // namespace kiln::passes
