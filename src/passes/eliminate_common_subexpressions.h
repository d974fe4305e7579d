// Level 1: two nodes of the same op, domain and attributes reading the same inputs compute the
// same values, so the later one's readers read the earlier one's outputs instead; equal small
// initializers (the many copies of a scalar constant an exporter emits) become one first, so that
// the nodes reading them compare equal. Random ops and nodes with subgraphs are never merged, nor
// is a node whose outputs are graph outputs (their names are the model's API).
#pragma once

#include <cstdint>

#include "passes/pass.h"

namespace kiln::passes {

class EliminateCommonSubexpressions final : public GraphPass {
 public:
  // Larger initializers are compared only by name: equal weights under two names are rare, and
  // comparing them all would cost quadratic time.
  static constexpr int64_t kMaxMergedInitializerElements = 64;

  const char* name() const override { return "EliminateCommonSubexpressions"; }
  int run(ir::Model& model) const override;
};

}  // namespace kiln::passes
