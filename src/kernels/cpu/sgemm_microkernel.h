// What each CPU level contributes to the SGEMM (kernels/cpu/sgemm.h): its tile sizes, a
// register-blocked micro-kernel per row count, and the tile epilogue. Implemented once per level
// in sgemm_<level>.cc, each compiled for its instruction set.
#pragma once

#include <cstdint>

#include "core/cpu_features.h"
#include "kernels/cpu/activation.h"
#include "kernels/cpu/sgemm.h"

namespace kiln::kernels {

// The part of an epilogue that applies to one tile, with pointers already offset to the tile.
struct TileEpilogue {
  const float* row_bias;   // indexed by tile row, or null
  const float* col_bias;   // indexed by tile column, or null
  const float* residual;   // tile origin in the residual, or null
  int64_t residual_ld;
  Activation activation;
};

// Activations simple enough for micro-kernels to apply in registers as they store a tile (with the
// biases and residual); the others are applied by GemmIsa::epilogue after the tile is stored.
inline bool activation_fits_registers(ActivationKind kind) {
  return kind == ActivationKind::None || kind == ActivationKind::Relu || kind == ActivationKind::Clip ||
         kind == ActivationKind::LeakyRelu;
}

// c [rows x cols] (=|+=) alpha * a * b over kc steps, then `epilogue` (when not null; its
// activation fits registers) before the store. Step k reads a[k * a_step + r] for the rows
// r < rows (a_step is mr for a packed panel, 1 for a single contiguous row) and the nr values
// b[k * nr ...] of a packed panel, zero-padded past cols. rows <= mr, cols <= nr.
using MicroKernel = void (*)(int64_t kc, const float* a, int64_t a_step, const float* b, float* c, int64_t ldc,
                             int64_t cols, float alpha, bool accumulate, const TileEpilogue* epilogue);

struct GemmIsa {
  int64_t mr, nr, kc, mc, nc;  // mc is a multiple of mr
  const MicroKernel* kernels;  // kernels[rows - 1] for rows in 1..mr
  void (*epilogue)(float* c, int64_t ldc, int64_t rows, int64_t cols, const TileEpilogue& epilogue);
  // Packing (kernels/cpu/gemm_packing.h): one A panel; all B panels of a column range.
  void (*pack_a)(const MatrixView& a, int64_t i0, int64_t rows, int64_t k0, int64_t kc, int64_t mr, float* dst);
  void (*pack_b)(const MatrixView& b, int64_t k0, int64_t kc, int64_t j0, int64_t cols, int64_t nr, float* dst);
  void (*pack_im2col)(const Im2colView& v, int64_t k0, int64_t kc, int64_t j0, int64_t cols, int64_t nr, float* dst);
};

const GemmIsa& gemm_isa(CpuLevel level);
const GemmIsa& gemm_isa_scalar();
const GemmIsa& gemm_isa_avx2();
const GemmIsa& gemm_isa_avx512();

}  // namespace kiln::kernels
