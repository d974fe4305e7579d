// The matrix products of a transformer's linear layers, y = x W^T + b, with W packed once for the
// SGEMM (kernels/cpu/sgemm.h). Several layers that read the same input (q, k and v; gate and up)
// pack into one projection whose outputs lie side by side, so one GEMM reads the input once.
#pragma once

#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/cpu/sgemm.h"
#include "kiln/tensor.h"

namespace kiln::llm::nn {

class Projection {
 public:
  // Packs `weights` ([out_i, in] each, any float dtype, the same `in`) one after another along
  // the output; `biases` is empty or has one entry per weight, each undefined or [out_i]. Leaves
  // the projection empty when any weight is undefined (not loaded yet).
  void build(CpuLevel level, const std::vector<const Tensor*>& weights, const std::vector<const Tensor*>& biases);
  bool built() const { return out_ > 0; }
  int64_t in() const { return in_; }
  int64_t out() const { return out_; }

  // y[r * ldy + j] (=, or += with `accumulate`) sum_k x[r * ldx + k] W[j][k] + b[j], for r < rows.
  void apply(const float* x, int64_t ldx, int64_t rows, float* y, int64_t ldy, bool accumulate, ThreadPool& pool) const;

 private:
  CpuLevel level_ = CpuLevel::Scalar;
  int64_t in_ = 0, out_ = 0;
  kernels::PackedMatrix packed_;
  std::vector<float> bias_;  // empty when no weight has one
};

}  // namespace kiln::llm::nn
