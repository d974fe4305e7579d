// Portable int8 GEMM tiles for CPUs without AVX2: 4 rows x 16 columns (one panel) in plain C++
// over the packed layout, which the compiler vectorizes with the baseline SSE2. They also keep the
// blocking, packing and epilogues testable on any machine.
#include "kernels/cpu/qgemm_loops.h"

namespace kiln::kernels {
namespace {

constexpr int64_t kMr = 4, kNr = PackedQuantWeights::kPanel;

void tile_4x16(const QGemmCall& call, const QGemmTile& t) {
  uint32_t acc[kMr * kNr] = {};
  const int8_t* group = call.b->panel(t.j);
  for (int64_t k0 = 0; k0 < call.K; k0 += 4, group += 64) {
    // A's group of 4 for each row, zero past K and past the tile's rows: fixed trip counts below.
    int32_t a[kMr][4] = {};
    for (int64_t r = 0; r < t.rows; ++r)
      for (int64_t s = 0; s < std::min<int64_t>(4, call.K - k0); ++s) a[r][s] = call.a[(t.i + r) * call.lda + k0 + s];
    for (int64_t r = 0; r < kMr; ++r)
      for (int64_t n = 0; n < kNr; ++n) {
        const int8_t* b = group + 4 * n;
        const int32_t dot = a[r][0] * b[0] + a[r][1] * b[1] + a[r][2] * b[2] + a[r][3] * b[3];
        acc[r * kNr + n] += static_cast<uint32_t>(dot);
      }
  }
  finish_tile<kNr>(acc, call, t);
}

}  // namespace

const QGemmIsa& qgemm_isa_scalar() {
  static const QGemmIsa isa{kMr, kNr, &tile_4x16, &sum_rows};
  return isa;
}

}  // namespace kiln::kernels
