// Level 1: removes nodes that pass their input through unchanged, so that their readers read the
// input itself: Identity; Dropout at inference (its mask unread, training_mode absent or false);
// Cast to the dtype its input already has; Transpose by the identity permutation; Reshape,
// Expand, Flatten, Squeeze, Unsqueeze and Slice (positive steps) whose output has its input's
// static shape (ir::infer_shapes records the output's before each round). A node whose
// output is a graph output stays when its input cannot take that name (ir::bypass).
#pragma once

#include "passes/pass.h"

namespace kiln::passes {

class EliminateNoOps final : public GraphPass {
 public:
  const char* name() const override { return "EliminateNoOps"; }
  int run(ir::Model& model) const override;
};

}  // namespace kiln::passes
