// kiln.NchwcConv 1x1 (stride 1, no padding, no residual) whose only reader is a depthwise
// kiln.NchwcConv (no residual)  =>  kiln.NchwcPointwiseDepthwise: an inverted residual block's
// expansion and filter computed together, so that the expanded tensor never goes to memory. The
// 1x1's activation becomes pointwise_activation; the depthwise convolution's attributes stay.
#pragma once

#include "passes/pass.h"

namespace kiln::passes {

class FuseNchwcPointwiseDepthwise final : public GraphPass {
 public:
  const char* name() const override { return "FuseNchwcPointwiseDepthwise"; }
  int run(ir::Model& model) const override;
};

}  // namespace kiln::passes
