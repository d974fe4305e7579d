// Level 3: QLinearConv with constant 2-D weights runs channels-last, as ONNX Runtime's
// NhwcTransformer runs it: kiln.QLinearConv(channels_last = 1) between Transpose [0, 2, 3, 1] and
// Transpose [0, 3, 1, 2]; so does an 8-bit 2-D MaxPool (kiln.MaxPool, kernels/cpu/max_pool_nhwc.h). The transposes between two such convolutions cancel
// (CancelTransposes), and those around a residual kiln.QLinearAdd move past it
// (PushTransposesThroughQLinearAdd), so a chain of int8 convolutions stays NHWC, which is what the
// int8 GEMM reads and writes (kernels/cpu/qconv.h), and only its ends transpose.
#pragma once

#include "passes/pass.h"

namespace kiln::passes {

class QuantizedChannelsLast final : public GraphPass {
 public:
  const char* name() const override { return "QuantizedChannelsLast"; }
  int run(ir::Model& model) const override;
};

// kiln.QLinearAdd of two Transposes with one permutation => Transpose of the kiln.QLinearAdd of
// their inputs (the addition is elementwise; FuseQdqAdd made its same-rank operands equal in shape).
// Transposes left unread go.
class PushTransposesThroughQLinearAdd final : public GraphPass {
 public:
  const char* name() const override { return "PushTransposesThroughQLinearAdd"; }
  int run(ir::Model& model) const override;
};

}  // namespace kiln::passes
