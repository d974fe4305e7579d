// Level 1: a node whose inputs are all known before any run (initializers, or none at all as for
// Constant) is computed once, at session creation, by the same CPU kernel a run would use, and its
// outputs become initializers. Random ops, nodes with subgraphs and nodes that write a graph output
// stay. So does a node its kernel rejects (the run reports that error with its context), and one
// whose outputs would take more than kMaxGrowthBytes beyond its inputs: a ConstantOfShape or Expand
// that makes a large tensor from a small one is cheaper to recompute than to keep.
#pragma once

#include <cstdint>

#include "core/cpu_features.h"
#include "passes/pass.h"

namespace kiln::passes {

class FoldConstants final : public GraphPass {
 public:
  static constexpr int64_t kMaxGrowthBytes = int64_t{16} << 20;

  explicit FoldConstants(CpuLevel cpu_level) : cpu_level_(cpu_level) {}
  const char* name() const override { return "FoldConstants"; }
  int run(ir::Model& model) const override;

 private:
  CpuLevel cpu_level_;
};

}  // namespace kiln::passes
