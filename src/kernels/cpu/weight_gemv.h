// Products with a stored weight matrix (kernels/cpu/weight_matrix.h): y = x W^T (+ bias), for the
// few rows x of LLM decode steps, reading W once in its own format; and the dequantization to
// float that lets prefill run the packed SGEMM on slices of W. Int8 and Int4 weights multiply x
// quantized per block of 32 (quantized_activations.h); on AVX-512 their fast form is packed
// (packed_int_weights.h), and here they run the reference. LLM projections also pack float16 and
// bfloat16 on AVX-512 (packed_half_weights.h); these row-major kernels serve the rest.
#pragma once

#include <cstdint>

#include "core/cpu_features.h"
#include "core/thread_pool.h"
#include "kernels/cpu/weight_matrix.h"

namespace kiln::kernels {

struct GemvArgs {
  const float* x = nullptr;  // row r at x + r * ldx, W.cols values
  int64_t ldx = 0, x_rows = 0;
  float* y = nullptr;        // row r at y + r * ldy, W.rows values
  int64_t ldy = 0;
  const float* bias = nullptr;  // [W.rows] or null
  bool accumulate = false;      // y += instead of y =
};

// The plain reference, outputs [j0, j1) of every row.
void weight_gemv_ref(const WeightMatrixView& w, const GemvArgs& args, int64_t j0, int64_t j1);
// The fast kernel for `level`, split over outputs across `pool`.
void weight_gemv(CpuLevel level, const WeightMatrixView& w, const GemvArgs& args, ThreadPool& pool);

// Rows [r0, r0 + count) of W as floats, row-major with stride ld: the reference, and the fast
// version for `level`.
void dequantize_rows_ref(const WeightMatrixView& w, int64_t r0, int64_t count, float* out, int64_t ld);
void dequantize_rows(CpuLevel level, const WeightMatrixView& w, int64_t r0, int64_t count, float* out, int64_t ld);

}  // namespace kiln::kernels
