// AVX2 int8 GEMM tiles: 2 rows x 16 columns (one panel). AVX2 has no exact u8 x s8 dot product:
// vpmaddubsw adds two u8 x s8 products into a saturating int16 (2 x 255 x 127 does not fit), so
// both operands are widened to int16 and vpmaddwd adds pairs of products into int32 lanes, which
// is exact. A 64-byte group of B (16 columns x 4 k) widens into 4 vectors of 4 columns x 4 k; against
// A's 4 values, repeated, vpmaddwd leaves 2 partial sums per column, paired up once per tile.
// 8 accumulators, 4 widened B vectors and A's fill 13 of the 16 ymm registers.
#include <immintrin.h>

#include "kernels/cpu/qgemm_loops.h"

namespace kiln::kernels {
namespace {

constexpr int64_t kMr = 2, kNr = PackedQuantWeights::kPanel;

template <int Rows>
void tile_2x16(const QGemmCall& call, const QGemmTile& t) {
  __m256i acc[Rows][4];
  for (auto& row : acc)
    for (auto& v : row) v = _mm256_setzero_si256();
  const TileRows<Rows> tile_rows(call, t);
  const int8_t* group = call.b->panel(t.j);
  for (const GroupRun& run : tile_rows.runs())
    for (int64_t g = 0; g < run.groups; ++g, group += 64) {
      __m256i b[4];
      for (int c = 0; c < 4; ++c)
        b[c] = _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(group + 16 * c)));
      for (int r = 0; r < Rows; ++r) {
        const __m256i av = _mm256_cvtepu8_epi16(_mm_set1_epi32(load_quad(run.a + r * run.lda + 4 * g)));
        for (int c = 0; c < 4; ++c) acc[r][c] = _mm256_add_epi32(acc[r][c], _mm256_madd_epi16(av, b[c]));
      }
    }
  // Lane pairs to column sums: hadd gives columns 0 1 4 5 | 2 3 6 7, the permute puts them in order.
  alignas(32) uint32_t sums[kMr * kNr];
  for (int r = 0; r < Rows; ++r)
    for (int half = 0; half < 2; ++half) {
      const __m256i pairs = _mm256_hadd_epi32(acc[r][2 * half], acc[r][2 * half + 1]);
      _mm256_store_si256(reinterpret_cast<__m256i*>(sums + r * kNr + 8 * half), _mm256_permute4x64_epi64(pairs, 0xD8));
    }
  finish_tile<kNr>(sums, call, t);
}

void tile(const QGemmCall& call, const QGemmTile& t) {
  if (t.rows == 1) return tile_2x16<1>(call, t);
  tile_2x16<2>(call, t);
}

}  // namespace

const QGemmIsa& qgemm_isa_avx2() {
  static const QGemmIsa isa{kMr, kNr, &tile, &sum_rows};
  return isa;
}

}  // namespace kiln::kernels
