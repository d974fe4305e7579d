// AVX2 + FMA SGEMM micro-kernels: 6 x 16 tiles (12 ymm accumulators, two B vectors, one
// broadcast), the classic Haswell-to-Zen shape that keeps both FMA pipes busy.
#include <immintrin.h>

#include "kernels/cpu/gemm_packing.h"
#include "kernels/cpu/tile_epilogue.h"

namespace kiln::kernels {
namespace {

constexpr int64_t kMr = 6, kNr = 16;

template <int Rows>
void tile_6x16(int64_t kc, const float* a, int64_t a_step, const float* b, float* c, int64_t ldc, int64_t cols,
               float alpha, bool accumulate, const TileEpilogue* epilogue) {
  __m256 lo[Rows], hi[Rows];
#pragma GCC unroll 6
  for (int r = 0; r < Rows; ++r) lo[r] = hi[r] = _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b_lo = _mm256_load_ps(b), b_hi = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
    for (int r = 0; r < Rows; ++r) {
      const __m256 av = _mm256_broadcast_ss(a + r);
      lo[r] = _mm256_fmadd_ps(av, b_lo, lo[r]);
      hi[r] = _mm256_fmadd_ps(av, b_hi, hi[r]);
    }
    a += a_step;
    b += kNr;
  }
  const __m256 scale = _mm256_set1_ps(alpha);
  alignas(32) float partial[kNr];
#pragma GCC unroll 6
  for (int r = 0; r < Rows; ++r) {
    float* row = c + r * ldc;
    const bool full = cols == kNr;
    float* dst = full ? row : partial;
    __m256 v_lo = _mm256_mul_ps(lo[r], scale), v_hi = _mm256_mul_ps(hi[r], scale);
    if (full && accumulate) {
      v_lo = _mm256_add_ps(v_lo, _mm256_loadu_ps(row));
      v_hi = _mm256_add_ps(v_hi, _mm256_loadu_ps(row + 8));
    }
    _mm256_storeu_ps(dst, v_lo);
    _mm256_storeu_ps(dst + 8, v_hi);
    if (!full)
      for (int64_t j = 0; j < cols; ++j) row[j] = accumulate ? row[j] + partial[j] : partial[j];
  }
  // The epilogue runs on the stored tile while it is in L1; a partial tile's edge needs no masks.
  if (epilogue) apply_tile_epilogue(c, ldc, Rows, cols, *epilogue);
}

template <int... Rows>
constexpr MicroKernel kTiles[] = {&tile_6x16<Rows>...};

}  // namespace

const GemmIsa& gemm_isa_avx2() {
  static const GemmIsa isa{kMr, kNr, 256, 144, 4096, kTiles<1, 2, 3, 4, 5, 6>, &apply_tile_epilogue,
                           &pack_a_panel, &pack_b_panels, &pack_im2col_panels};
  return isa;
}

}  // namespace kiln::kernels
