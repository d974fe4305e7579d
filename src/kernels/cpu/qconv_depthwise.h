// Depthwise 8-bit convolution (one output channel per input channel, MobileNet's 3x3 layers) over
// NHWC uint8 images, for kernels/cpu/qconv.h: a GEMM per group would multiply 1-column matrices.
// Each output pixel sums its window's taps for all channels at once, channel runs being contiguous:
// acc[c] = sum over taps of (x[tap][c] - x_zero_point) * w[tap][c], where w holds the weights minus
// their zero points as int32 [kernel_h * kernel_w][channels]; taps in the padding add nothing.
// Then the sums are requantized (Requantization, as requantize_ref computes) or stored as int32.
// Every level computes the same integers and the same rounding; per-level files only differ in
// the instructions the compiler may use.
#pragma once

#include <cstdint>
#include <variant>

#include "core/cpu_features.h"
#include "core/thread_pool.h"
#include "kernels/cpu/qgemm.h"

namespace kiln::kernels {

struct QDepthwiseArgs {
  const uint8_t* image = nullptr;  // [height, width, channels]
  int64_t height = 0, width = 0, channels = 0;
  int32_t x_zero_point = 0;
  const int32_t* weights = nullptr;  // [kernel_h * kernel_w, channels], zero points subtracted
  int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0, out_h = 0, out_w = 0;
  std::variant<uint8_t*, int8_t*, int32_t*> y;  // [out_h, out_w, channels]
  Requantization requantize;                   // per-channel multipliers and biases
};

// Output rows [row_begin, row_end), per level.
void qconv_depthwise_rows_scalar(const QDepthwiseArgs& args, int64_t row_begin, int64_t row_end);
void qconv_depthwise_rows_avx2(const QDepthwiseArgs& args, int64_t row_begin, int64_t row_end);
void qconv_depthwise_rows_avx512(const QDepthwiseArgs& args, int64_t row_begin, int64_t row_end);

// The whole image by the kernel for `level`, rows split across `pool`.
void qconv_depthwise(CpuLevel level, const QDepthwiseArgs& args, ThreadPool& pool);

}  // namespace kiln::kernels
