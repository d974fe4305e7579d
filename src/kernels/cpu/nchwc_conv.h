// Convolution in the NCHWc layout (kernels/cpu/nchwc.h), prepared once per node: the weights are
// packed for the session's CPU level when the session is created, and a run allocates nothing
// beyond reused per-thread scratch rows.
//
// The micro-kernels hold a strip of up to mr output pixels of one row times two output channel
// blocks in registers (14 x 2 zmm on AVX-512), broadcast one input channel of each pixel per step
// and multiply it by the filters' vector of output channels. The input is read in place: no im2col
// matrix, and planes of any width fill the tile (a 7-wide row is a 7-pixel strip). Horizontal
// padding is written out in a per-thread copy of the rows a thread reads, so that the inner loops
// never test bounds; vertical padding just skips the filter rows that fall outside. Depthwise convolutions (one filter per
// channel, MobileNet) vectorize across the block's channels the same way, and test the columns of
// the strips at a row's ends instead of copying their input.
#pragma once

#include <cstdint>

#include "core/cpu_features.h"
#include "core/thread_pool.h"
#include "core/weight_store.h"
#include "kernels/cpu/activation.h"

namespace kiln::kernels {

// One NCHWc convolution's sizes in pixels. Padding past the bottom and right edges is implied by
// the output size.
struct NchwcConvGeometry {
  int64_t batch, in_h, in_w, out_h, out_w;
  int64_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
};

struct NchwcConvEpilogue {
  const float* bias = nullptr;      // one value per output channel, padded with zeros to whole blocks
  const float* residual = nullptr;  // NCHWc, shaped like the output, added before the activation
  Activation activation;
};

class PreparedNchwcConv {
 public:
  // w is the ONNX weight [out_channels, in_channels, kernel_h, kernel_w], or for a depthwise
  // convolution (group = channels) [channels, 1, kernel_h, kernel_w]. With nchw_input the input
  // is plain NCHW (a network's first convolution, over too few channels to fill a block) and only
  // the output is NCHWc; depthwise convolutions take NCHWc input only. The packed filters come
  // from `store` ("filters").
  PreparedNchwcConv(CpuLevel level, const float* w, int64_t out_channels, int64_t in_channels, int64_t kernel_h,
                    int64_t kernel_w, bool depthwise, bool nchw_input = false,
                    WeightStore& store = fresh_weight_store());

  int64_t block() const { return block_; }
  int64_t in_channels() const { return in_channels_; }
  int64_t out_channels() const { return out_channels_; }
  bool depthwise() const { return depthwise_; }
  // Channels per input block: the block, or 1 for NCHW input.
  int64_t in_lanes() const { return in_lanes_; }

  // x is [batch, in blocks, in_h, in_w, block] (NCHW input: [batch, in_channels, in_h, in_w]),
  // y [batch, out blocks, out_h, out_w, block].
  // Horizontal strides must be 1 or 2 (the layout pass converts no others).
  void run(const float* x, const NchwcConvGeometry& g, float* y, const NchwcConvEpilogue& epilogue,
           ThreadPool& pool) const;

  // Floats from one channel block to the next in x and y where those are not the geometry's own
  // whole planes (0: they are): a convolution over a band of rows reads part of an image and may
  // write a buffer of just those rows.
  // A depthwise convolution may also read its input rows from a ring of ring_rows rows (input
  // row iy at iy % ring_rows), filled by whoever computes them.
  struct Planes {
    int64_t in = 0, out = 0, ring_rows = 0;
  };
  // Output blocks computed together (2, or 1 for depthwise): the unit of run_rows' groups.
  int64_t group_blocks() const { return depthwise_ ? 1 : 2; }
  // Output rows [first_row, last_row) of groups [first_group, last_group) of image 0, on the
  // calling thread, for callers that split the work themselves (kiln.NchwcPointwiseDepthwise). A
  // 1x1 convolution that keeps its plane runs all of its rows.
  void run_rows(const float* x, const NchwcConvGeometry& g, float* y, const NchwcConvEpilogue& epilogue,
                int64_t first_row, int64_t last_row, int64_t first_group, int64_t last_group, Planes planes) const;

 private:
  struct Run;
  Run plan_run(const float* x, const NchwcConvGeometry& g, float* y, const NchwcConvEpilogue& epilogue,
               Planes planes) const;

  CpuLevel level_;
  int64_t block_, in_lanes_, in_channels_, out_channels_, kernel_h_, kernel_w_;
  bool depthwise_;
  // Regular: per group of (up to) two output blocks, [in block][ky][kx][in lane][2][block].
  // NCHW input: the same with blocks of one lane.
  // Depthwise: per block, [ky][kx][block].
  PreparedWeights filters_;
};

}  // namespace kiln::kernels
