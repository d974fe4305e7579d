// Level 1: a node whose inputs are all known before any run (initializers, or none at all as for
// Constant) is computed once, at session creation, by the same CPU kernel a run would use, and its
// outputs become initializers. Random ops, nodes with subgraphs and nodes that write a graph output
// stay. So does a node its kernel rejects (the run reports that error with its context), and one
// whose outputs would take more than kMaxGrowthBytes beyond its inputs: a ConstantOfShape or Expand
// that makes a large tensor from a small one is cheaper to recompute than to keep.
//
// DequantizeLinear of a constant (a QDQ model's int8 weights and int32 biases) is the exception
// that keeps QDQ node units whole: level 1 leaves it for level 2's FuseQdqProducts, which takes the
// integer weights into an int8 kernel, and FoldDequantizedWeights (this pass in its second mode, last
// in level 2) folds those that no fusion took, so that no run dequantizes a weight.
#pragma once

#include <cstdint>

#include "core/cpu_features.h"
#include "passes/pass.h"

namespace kiln::passes {

class FoldConstants final : public GraphPass {
 public:
  static constexpr int64_t kMaxGrowthBytes = int64_t{16} << 20;

  enum class Mode {
    AllButDequantize,  // FoldConstants: every foldable node but DequantizeLinear
    DequantizeOnly,    // FoldDequantizedWeights: only DequantizeLinear
  };

  explicit FoldConstants(CpuLevel cpu_level, Mode mode = Mode::AllButDequantize) : cpu_level_(cpu_level), mode_(mode) {}
  const char* name() const override {
    return mode_ == Mode::AllButDequantize ? "FoldConstants" : "FoldDequantizedWeights";
  }
  int run(ir::Model& model) const override;

 private:
  CpuLevel cpu_level_;
  Mode mode_;
};

}  // namespace kiln::passes
