// Level 1: Conv -> BatchNormalization (inference form, constant statistics)  =>  Conv with
// W[m] * s[m] and bias (B[m] - mean[m]) * s[m] + beta[m], where s = gamma / sqrt(var + epsilon):
// the normalization costs nothing at run time. Models exported for training, or from frameworks
// that do not fold it themselves, keep their BatchNormalization nodes otherwise.
#pragma once

#include "passes/pass.h"

namespace kiln::passes {

class FoldConvBatchNorm final : public GraphPass {
 public:
  const char* name() const override { return "FoldConvBatchNorm"; }
  int run(ir::Model& model) const override;
};

}  // namespace kiln::passes
