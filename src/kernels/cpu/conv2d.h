// A float 2-D convolution prepared once per node: the algorithm is picked from the weights' shape
// and the attributes, and the weights are packed for the session's CPU level. Running it allocates
// nothing beyond the GEMM's reused per-thread scratch.
//   depthwise (one filter per channel)        -> depthwise plane kernel
//   1x1, unit stride, no padding              -> GEMM reading X as the B matrix directly
//   anything else                              -> GEMM packing im2col panels straight from X
// 1-D convolutions run as 2-D ones of height 1.
#pragma once

#include <vector>

#include "kernels/cpu/conv_ref.h"
#include "kernels/cpu/depthwise_conv.h"
#include "kernels/cpu/sgemm.h"

namespace kiln::kernels {

struct ConvEpilogue {
  const float* bias = nullptr;      // [M] or null
  const float* residual = nullptr;  // shaped like Y, or null
  Activation activation;
};

class PreparedConv2d {
 public:
  enum class Algorithm { Depthwise, Pointwise, Im2col };

  // w is [M, C / groups, kernel_h, kernel_w] (kernel_h = 1 for 1-D). The prepared weights come
  // from `store` ("group<g>" panels, or "depthwise" filters).
  PreparedConv2d(CpuLevel level, const float* w, int64_t out_channels, int64_t group_channels, int64_t kernel_h,
                 int64_t kernel_w, int64_t groups, WeightStore& store = fresh_weight_store());

  Algorithm algorithm_for(const ConvShape& shape) const;
  // shape must have 1 or 2 spatial dims and match the weights given at construction.
  void run(const float* x, const ConvShape& shape, float* y, const ConvEpilogue& epilogue, ThreadPool& pool) const;

 private:
  CpuLevel level_;
  int64_t out_channels_, group_channels_, kernel_h_, kernel_w_, groups_;
  std::vector<PackedMatrix> packed_;  // one per group, for the GEMM algorithms
  PreparedWeights depthwise_filters_;  // [out_channels][kernel_h * kernel_w]
  DepthwisePlaneFn depthwise_;
};

}  // namespace kiln::kernels
