// Reference convolution and transposed convolution over any number of spatial dims, as im2col /
// col2im around gemm_ref, and the integer convolution around gemm_integer_ref. Layouts are ONNX's: X [N, C, spatial...], Y [N, M, spatial...],
// dense row-major.
#pragma once

#include <cstdint>

#include "core/thread_pool.h"
#include "kernels/cpu/window_geometry.h"

namespace kiln::kernels {

struct ConvShape {
  int64_t batch = 1;
  int64_t in_channels = 1;   // C, channels of X
  int64_t out_channels = 1;  // M, channels of Y
  int64_t groups = 1;        // divides both C and M
  WindowGeometry geometry;
};

// Y [N, M, geometry.output...] = X [N, C, geometry.input...] convolved with W [M, C / groups, kernel...],
// plus bias [M] when `bias` is not null.
void compute_conv(const float* x, const float* w, const float* bias, float* y, const ConvShape& shape,
                  ThreadPool& pool);

// Y [N, M, geometry.output...] = sum over taps of (X - x_zero_point) * (W - w_zero_points[m]) for
// 8-bit X and W (ConvInteger), accumulated in int32. Padding reads as x_zero_point: it adds
// nothing. Instantiated for uint8_t and int8_t X and W.
template <class TX, class TW>
void compute_conv_integer(const TX* x, int32_t x_zero_point, const TW* w, const int32_t* w_zero_points, int32_t* y,
                          const ConvShape& shape, ThreadPool& pool);

// The adjoint of compute_conv: Y [N, M, geometry.input...] from X [N, C, geometry.output...] and
// W [C, M / groups, kernel...], plus bias [M] when `bias` is not null.
void compute_conv_transpose(const float* x, const float* w, const float* bias, float* y, const ConvShape& shape,
                            ThreadPool& pool);

}  // namespace kiln::kernels
