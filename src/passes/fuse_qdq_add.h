// Level 2: DQ(a) + DQ(b) -> Q, the residual and bias additions of a QDQ model, becomes
// kiln.QLinearAdd (com.microsoft's QLinearAdd), which adds the 8-bit values without materializing
// either float tensor, in ONNX Runtime's arithmetic (kernels/cpu/qlinear_add.h: within one step of
// the unfused nodes). The output has the inputs' 8-bit type. a and b are quantized per tensor; b has a's shape or a suffix of it (a
// bias), or the other way round (then the operands swap). After FuseQdqProducts, which takes the
// products whose DQ outputs the Add also reads.
#pragma once

#include "passes/pass.h"

namespace kiln::passes {

class FuseQdqAdd final : public GraphPass {
 public:
  const char* name() const override { return "FuseQdqAdd"; }
  int run(ir::Model& model) const override;
};

}  // namespace kiln::passes
