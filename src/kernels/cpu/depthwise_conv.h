// Depthwise 2-D convolution (one filter per channel, as in MobileNet), one plane at a time. A GEMM
// would see M = 1 per channel and waste its tiles, so this walks each output row once per tap
// with the row held in L1, which the compiler vectorizes along the row.
#pragma once

#include <cstdint>

#include "core/cpu_features.h"
#include "kernels/cpu/activation.h"

namespace kiln::kernels {

struct DepthwiseGeometry {
  int64_t height, width, out_h, out_w;
  int64_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
};

// out [out_h, out_w] = activation(conv(in [height, width], filter [kernel_h, kernel_w]) + bias
// + residual), residual [out_h, out_w] or null.
using DepthwisePlaneFn = void (*)(const float* in, const float* filter, float bias, const float* residual, float* out,
                                  const DepthwiseGeometry& g, const Activation& activation);

DepthwisePlaneFn depthwise_plane_kernel(CpuLevel level);
DepthwisePlaneFn depthwise_plane_scalar();
DepthwisePlaneFn depthwise_plane_avx2();
DepthwisePlaneFn depthwise_plane_avx512();

}  // namespace kiln::kernels
