// The x rows of an integer weight GEMV (Int8 and Int4 weights, kernels/cpu/weight_matrix.h)
// quantized to int8 in blocks of 32 columns, each block with its own scale, as llama.cpp quantizes
// activations for its Q8_0 and Q4_0 dot products: sx = max|x| / 127, q = round(x / sx). The
// products then run on integers (VNNI's u8 x s8 dot), one float multiply per block.
//
// VNNI multiplies an unsigned byte by a signed one. Int4 codes are unsigned (0..15) and meet the
// signed q directly; Int8 weights are signed, so the kernel flips them to w + 128 and meets q.
// Either way each block's integer dot carries `offset` * sum(q) too (offset 8 for Int4's code
// bias, 128 for Int8's flip), which is subtracted once per weight group, not per element:
// group_offset[g] = offset * sum over the group's blocks of sx * sum(q).
//
// Columns are padded with zeros to a multiple of 64 (one 512-bit load of Int8 weights, two Int4
// blocks). For Int4, q is stored in the order the kernel unpacks a 64-column chunk's 32 bytes:
// the low nibbles of both blocks, then the high ones, i.e. columns 0-15, 32-47, 16-31, 48-63.
#pragma once

#include <cstdint>

#include "core/aligned_buffer.h"
#include "kernels/cpu/weight_matrix.h"

namespace kiln::kernels {

struct QuantizedActivations {
  int64_t rows = 0, cols = 0;
  int64_t padded_cols = 0;  // a multiple of 64
  int64_t groups = 0;       // the weights' groups per row (1 for per-channel Int8)
  AlignedBuffer<int8_t> q;             // [rows, padded_cols], in the format's lane order
  AlignedBuffer<float> scale;          // [rows, padded_cols / 32]
  AlignedBuffer<float> lane_scale;     // [rows, padded_cols / 64, 16]: each dot lane's block scale
  AlignedBuffer<float> group_offset;   // [rows, groups]

  // The position in a row of q of column c.
  int64_t position(WeightFormat format, int64_t c) const;
};

// Quantizes `rows` rows of x (row r at x + r * ldx, w.cols values) for products with `w` (Int8 or
// Int4) into `out`, reusing its storage.
void quantize_activations(const WeightMatrixView& w, const float* x, int64_t ldx, int64_t rows,
                          QuantizedActivations& out);

}  // namespace kiln::kernels
