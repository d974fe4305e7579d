// What each CPU level contributes to the int8 GEMM (kernels/cpu/qgemm.h): its tile size and the
// kernel that computes one tile of C and writes it through the epilogue. Implemented once per
// level in qgemm_<level>.cc, each compiled for its instruction set.
#pragma once

#include <cstdint>

#include "kernels/cpu/qgemm.h"

namespace kiln::kernels {

// What the tiles of one qgemm call share.
struct QGemmCall {
  const uint8_t* a;  // row i at a + i * lda
  int64_t lda, K;
  const PackedQuantWeights* b;
  // [b->padded_cols()]: K * za * zb[j] - za * colsum[j], wrapping, plus the requantization bias
  // when adding that in int32 cannot overflow.
  const int32_t* col_offsets;
  const QGemmEpilogue* epilogue;
  const int32_t* bias;  // the requantization bias left to the epilogue (int64 sums), or null
  // Requantized outputs: [q_lo, q_hi] is [qmin, qmax] within the output type's range; scaled
  // values are clamped to [q_lo, q_hi] - zero_point, and a NaN one becomes nan_value (requantize_ref
  // turns NaN into 0, which the clamp then applies to).
  int32_t q_lo, q_hi, nan_value;
  float scaled_lo, scaled_hi;
};

// Rows [i, i + rows) and columns [j, j + cols) of C: rows <= mr, cols <= nr, j a multiple of 16.
struct QGemmTile {
  int64_t i, j, rows, cols;
  const int32_t* row_sums;  // A's row sums from row i; null when B is symmetric
};

// Computes a tile of C and writes it through the call's epilogue.
using QGemmTileFn = void (*)(const QGemmCall& call, const QGemmTile& tile);

struct QGemmIsa {
  int64_t mr, nr;
  QGemmTileFn tile;
  void (*row_sums)(const uint8_t* a, int64_t lda, int64_t rows, int64_t K, int32_t* sums);
};

const QGemmIsa& qgemm_isa_scalar();
const QGemmIsa& qgemm_isa_avx2();
const QGemmIsa& qgemm_isa_avx512();

}  // namespace kiln::kernels
