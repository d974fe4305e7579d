// Level 2: QDQ node units around a product become one int8 kernel, as ONNX Runtime's QDQ
// selector/action transformer does:
//   DQ(x) -> Conv(DQ(w), DQ(b)?) [-> Relu] -> Q      =>  QLinearConv
//   DQ(a) -> MatMul(DQ(b))       [-> Relu] -> Q      =>  QLinearMatMul
//   DQ(a) -> Gemm(DQ(b), DQ(c)?) [-> Relu] [-> Q]    =>  kiln.QGemm (com.microsoft's QGemm; float
//                                                        output without the Q)
// when x and a are quantized per tensor, the weights are constant and quantized per tensor or per
// output channel, the bias is a constant int32 and the product's result has no other reader
// (but the Q).
// A Relu between the product and its Q goes only when the Q clamps as it did (its zero point is
// the type's lowest value). The bias is re-quantized to scale x_scale * w_scale when a producer
// gave it another. DequantizeLinear nodes that nothing reads any more go too.
//
// Before every other level-2 fusion: FuseActivation or FuseMatMulBias would otherwise take the
// float product out of its unit.
#pragma once

#include "passes/pass.h"

namespace kiln::passes {

class FuseQdqProducts final : public GraphPass {
 public:
  const char* name() const override { return "FuseQdqProducts"; }
  int run(ir::Model& model) const override;
};

}  // namespace kiln::passes
