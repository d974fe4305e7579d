// The x rows of an integer weight product (Int8 and Int4 weights, kernels/cpu/weight_matrix.h)
// quantized to int8 in blocks of 32 columns, each block with its own scale, as llama.cpp quantizes
// activations for its Q8_0 and Q4_0 dot products: sx = max|x| / 127, q = x * (1 / sx) rounded to
// nearest, ties to even. The products then run on integers (VNNI's u8 x s8 dot), one float
// multiply per block.
//
// VNNI multiplies an unsigned byte by a signed one, so the kernels meet q with unsigned weight
// codes that carry an offset (Int4's code bias 8, Int8 flipped to w + 128): each block's integer
// dot then carries offset * sum(q) too, which block_sum lets them subtract.
#pragma once

#include <cstdint>

#include "core/aligned_buffer.h"
#include "core/cpu_features.h"
#include "core/thread_pool.h"

namespace kiln::kernels {

struct QuantizedActivations {
  int64_t rows = 0, cols = 0;
  int64_t blocks = 0;                  // ceil(cols / 32)
  AlignedBuffer<int8_t> q;             // [rows, blocks * 32], zero past cols
  AlignedBuffer<float> scale;          // [rows, blocks]
  AlignedBuffer<int32_t> block_sum;    // [rows, blocks]: sum of the block's q

  const int8_t* row(int64_t r) const { return q.data() + r * blocks * 32; }
};

// Quantizes rows [r0, r1) of x (row r at x + r * ldx, cols values) into `out`, which
// prepare_quantized_activations sized for all rows.
void prepare_quantized_activations(int64_t rows, int64_t cols, QuantizedActivations& out);
void quantize_activation_rows_ref(const float* x, int64_t ldx, int64_t r0, int64_t r1, QuantizedActivations& out);
void quantize_activation_rows_avx512(const float* x, int64_t ldx, int64_t r0, int64_t r1, QuantizedActivations& out);

// All `rows` rows, by the kernel for `level` (the same values at every level), split across `pool`.
void quantize_activations(CpuLevel level, const float* x, int64_t ldx, int64_t rows, int64_t cols,
                          QuantizedActivations& out, ThreadPool& pool);

}  // namespace kiln::kernels
