// Level 1: Transpose(Transpose(x, p), q) => Transpose(x, p[q[i]]), or x itself when that is the
// identity: a pair exported around an op that was folded away, or NCHW <-> NHWC round trips.
// Both permutations must be given (without one, the rank is not known). When the pair is the
// identity its readers read x even if something else reads the inner Transpose, which then stays
// for those; a composition is only made when the outer Transpose alone reads the inner one.
// Level 3 runs it again, for the transposes QuantizedChannelsLast puts around int8 convolutions.
#pragma once

#include "passes/pass.h"

namespace kiln::passes {

class CancelTransposes final : public GraphPass {
 public:
  const char* name() const override { return "CancelTransposes"; }
  int run(ir::Model& model) const override;
};

}  // namespace kiln::passes
