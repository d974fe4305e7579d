// What each CPU level contributes to the NCHWc convolution (kernels/cpu/nchwc_conv.h): its block
// and tile width and the row kernels, implemented once in nchwc_conv_impl.h and compiled by
// nchwc_conv_<level>.cc for that instruction set.
#pragma once

#include <cstdint>

#include "kernels/cpu/activation.h"

namespace kiln::kernels {

// One output row segment for one group of output blocks. Pixel ox of that row reads, for filter
// tap (ky, kx), input pixel (iy0 + ky * dilation_h, ox * stride_w - pad_left + kx * dilation_w)
// of rows in_row pixels long, in every input block. Regular convolutions read rows whose
// horizontal padding is written out (pad_left is 0 and every column read exists); depthwise ones
// read the input as it is and skip the taps that fall outside [0, in_row).
struct NchwcConvRow {
  const float* x;             // input block 0, row 0, column 0
  int64_t in_blocks;          // blocks summed over (regular convolution); 1 for depthwise
  int64_t in_lanes;           // channels per input block: the level's block, or 1 for NCHW input
  int64_t in_channels;        // real input channels (the last block may be partly padding)
  int64_t in_h, in_row;       // rows per block, pixels per row
  int64_t in_first_row;       // the first row x holds: row iy is stored at iy - in_first_row
  int64_t in_block_stride;    // floats from one input block to the next
  int64_t ring_rows;          // depthwise only: if not 0, row iy is stored at iy % ring_rows
  const float* w;             // the group's packed filters
  int64_t blocks;             // output blocks in the group: 1 or 2 (depthwise: 1)
  int64_t kernel_h, kernel_w, dilation_h, dilation_w, stride_w, pad_left;
  int64_t iy0;                // input row of ky = 0; rows outside [0, in_h) are skipped
  int64_t ox_begin, ox_end;   // the segment's output pixels
  float* y;                   // pixel 0 of this output row in the group's first block
  int64_t out_block_stride;   // floats from one output block to the next
  const float* bias;          // the group's first channel's bias, or null
  const float* residual;      // laid out like y, or null
  Activation activation;
  bool accumulate;            // add to the partial sums y holds (a later chunk of input blocks)
  bool finish;                // the last chunk: apply bias, residual and activation
  // Filters the caller needs next, to be fetched into L2 while this row computes: `prefetch_lines`
  // cache lines from `prefetch`, spread over the row's strips and input blocks so that the
  // requests never pile up beyond what the memory system keeps in flight.
  const float* prefetch;
  int64_t prefetch_lines;
};

struct NchwcConvIsa {
  int64_t block, max_pixels;
  void (*conv_row)(const NchwcConvRow& row);
  void (*depthwise_row)(const NchwcConvRow& row);
};

const NchwcConvIsa& nchwc_conv_isa_scalar();
const NchwcConvIsa& nchwc_conv_isa_avx2();
const NchwcConvIsa& nchwc_conv_isa_avx512();

}  // namespace kiln::kernels
