// 8-bit 2-D convolutions (QLinearConv, ConvInteger) on the int8 GEMM (qgemm.h), NCHW in and out.
//
// Per image, X is transposed to NHWC uint8 (int8 X is shifted by 128 on the way, its zero point
// with it), each group's windows become rows of A (im2col_nhwc.h; a 1x1 stride-1 unpadded
// convolution reads the NHWC image itself), the GEMM against the weights packed at preparation
// writes NHWC output rows through its epilogue, and those are transposed back to NCHW. In the
// channels-last form (kiln.QLinearConv with channels_last, passes/quantized_channels_last.h) X and
// Y are NHWC and neither transpose happens.
#pragma once

#include <cstdint>
#include <variant>
#include <vector>

#include "core/aligned_buffer.h"
#include "core/cpu_features.h"
#include "core/thread_pool.h"
#include "core/weight_store.h"
#include "kernels/cpu/conv_ref.h"
#include "kernels/cpu/qconv_depthwise.h"
#include "kernels/cpu/qgemm.h"

namespace kiln::kernels {

class PreparedQConv {
 public:
  // w: [M, C / groups, kh, kw] int8 (w_signed) or uint8 codes; w_zero_points: [M], or one for all.
  PreparedQConv(CpuLevel level, int64_t out_channels, int64_t group_channels, int64_t groups, int64_t kernel_h,
                int64_t kernel_w, const void* w, bool w_signed, const std::vector<int32_t>& w_zero_points,
                WeightStore& store);

  // Y = conv(X - x_zero_point, W - w_zero_points) through `output`'s epilogue, for a 2-D `shape`
  // whose channels and kernel are the prepared ones. X is NCHW uint8, or int8 when x_signed; X and
  // Y are NHWC when channels_last.
  // Requantized output: uint8_t* or int8_t* with output.requantize (per output channel
  // multipliers and biases); int32_t*: the sums as they are.
  struct Output {
    std::variant<uint8_t*, int8_t*, int32_t*> y;
    Requantization requantize;
  };
  void run(const ConvShape& shape, const void* x, bool x_signed, int32_t x_zero_point, const Output& output,
           bool channels_last, ThreadPool& pool) const;

  // Whether the prepared path takes this convolution: 2-D, with these weights.
  static bool supports(const ConvShape& shape) { return shape.geometry.rank() == 2; }

 private:
  bool depthwise() const { return !depthwise_weights_.empty(); }

  CpuLevel level_;
  int64_t out_channels_, group_channels_, groups_, kernel_h_, kernel_w_;
  std::vector<PackedQuantWeights> weights_;  // per group: K = kh * kw * C / groups, N = M / groups
  PreparedWeights depthwise_weights_;        // depthwise: int32 [kh * kw, C], zero points subtracted
};

}  // namespace kiln::kernels
