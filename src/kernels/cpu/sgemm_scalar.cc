// Portable SGEMM micro-kernels for CPUs without AVX2: 4 x 16 tiles in plain C++, which the
// compiler vectorizes with the baseline SSE2. They also keep the packing and blocking logic
// testable on any machine.
#include "kernels/cpu/gemm_packing.h"
#include "kernels/cpu/tile_epilogue.h"

namespace kiln::kernels {
namespace {

constexpr int64_t kMr = 4, kNr = 16;

template <int Rows>
void tile_4x16(int64_t kc, const float* a, int64_t a_step, const float* b, float* c, int64_t ldc, int64_t cols,
               float alpha, bool accumulate, const TileEpilogue* epilogue) {
  float acc[Rows][kNr] = {};
  for (int64_t k = 0; k < kc; ++k) {
    for (int r = 0; r < Rows; ++r)
      for (int64_t j = 0; j < kNr; ++j) acc[r][j] += a[r] * b[j];
    a += a_step;
    b += kNr;
  }
  for (int r = 0; r < Rows; ++r) {
    float* row = c + r * ldc;
    for (int64_t j = 0; j < cols; ++j) row[j] = alpha * acc[r][j] + (accumulate ? row[j] : 0.f);
  }
  if (epilogue) apply_tile_epilogue(c, ldc, Rows, cols, *epilogue);
}

template <int... Rows>
constexpr MicroKernel kTiles[] = {&tile_4x16<Rows>...};

}  // namespace

const GemmIsa& gemm_isa_scalar() {
  static const GemmIsa isa{kMr, kNr, 256, 128, 1024, kTiles<1, 2, 3, 4>, &apply_tile_epilogue,
                           &pack_a_panel, &pack_b_panels, &pack_im2col_panels};
  return isa;
}

}  // namespace kiln::kernels
