// The float weight GEMV and dequantization for AVX-512: each step converts 16 weights of a row to
// float and multiplies them into up to kRowsX rows of x at once, kRowsW weight rows side by side,
// so W is read exactly once per call. (Int8 and Int4 weights run packed: packed_int_weights.h.)
#include <immintrin.h>

#include <algorithm>

#include "kernels/cpu/weight_gemv.h"
#include "kiln/error.h"

namespace kiln::kernels {
namespace {

constexpr int kRowsW = 4, kRowsX = 4;
// A tile reads kRowsW rows side by side: as many short interleaved streams, which the hardware
// prefetcher follows too late (decode ran at a fifth of the read bandwidth). Each row is fetched
// this far ahead, running on into the same row of the next tile, kRowsW rows down.
constexpr int64_t kPrefetchBytes = 1024;

void prefetch_ahead(const void* row, int64_t offset, int64_t row_bytes) {
  const int64_t ahead = offset + kPrefetchBytes;
  const auto* p = static_cast<const char*>(row) + (ahead < row_bytes ? ahead : (kRowsW - 1) * row_bytes + ahead);
  _mm_prefetch(p, _MM_HINT_T0);  // past the matrix's end it is a hint that fetches nothing harmful
}

// 16 float weights from `row` at column c (a multiple of 16), `mask` the columns that exist.
template <WeightFormat F>
__m512 load_float(const uint8_t* row, int64_t c, __mmask16 mask) {
  if constexpr (F == WeightFormat::F32) return _mm512_maskz_loadu_ps(mask, row + 4 * c);
  if constexpr (F == WeightFormat::F16) return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, row + 2 * c));
  if constexpr (F == WeightFormat::BF16)
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mask, row + 2 * c)), 16));
  return _mm512_setzero_ps();
}

__mmask16 first_lanes(int64_t n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1); }

struct RowReader {
  const WeightMatrixView& w;
  int64_t row_bytes, groups;

  // 16 weights of row r from column c (c a multiple of 16), the first `n` of them; the rest 0.
  __m512 load(int64_t r, int64_t c, int64_t n) const {
    const auto* row = static_cast<const uint8_t*>(w.data) + r * row_bytes;
    const __mmask16 mask = first_lanes(n);
    switch (w.format) {
      case WeightFormat::F32: return load_float<WeightFormat::F32>(row, c, mask);
      case WeightFormat::F16: return load_float<WeightFormat::F16>(row, c, mask);
      case WeightFormat::BF16: return load_float<WeightFormat::BF16>(row, c, mask);
      case WeightFormat::Int8: {
        const __m512 q = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, row + c)));
        return _mm512_mul_ps(q, _mm512_set1_ps(w.scales[r * groups + c / w.group]));
      }
      case WeightFormat::Int4: {
        // Columns 32g..32g+15 are the low nibbles of the group's 16 bytes, 32g+16.. the high ones.
        const __m512i bytes = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + c / 32 * 16)));
        const __m512i q = c % 32 == 0 ? _mm512_and_si512(bytes, _mm512_set1_epi32(0x0F)) : _mm512_srli_epi32(bytes, 4);
        const __m512 s = _mm512_set1_ps(w.scales[r * groups + c / w.group]);
        return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(q, _mm512_set1_epi32(8))), s);
      }
    }
    return _mm512_setzero_ps();
  }
};

// The kRowsW weight rows of a tile. Past the last row of W the tile reads the last row again, so
// that every tile runs the same unrolled code with its accumulators in registers; those outputs
// are never stored.
struct TileRows {
  const uint8_t* row[kRowsW];
  TileRows(const WeightMatrixView& w, int64_t row_bytes, int64_t j0) {
    for (int j = 0; j < kRowsW; ++j) row[j] = static_cast<const uint8_t*>(w.data) + std::min(j0 + j, w.rows - 1) * row_bytes;
  }
};

void store(const GemvArgs& a, int64_t r, int64_t j, float sum) {
  float& out = a.y[r * a.ldy + j];
  sum += a.bias ? a.bias[j] : 0.f;
  out = a.accumulate ? out + sum : sum;
}

// Float weights: outputs j0..j0+nw-1 for x rows r0..r0+kX-1.
template <WeightFormat F, int kX>
void float_tile(const WeightMatrixView& w, const GemvArgs& a, int64_t j0, int nw, int64_t r0) {
  const int64_t row_bytes = weight_row_bytes(F, w.cols), element_bytes = row_bytes / w.cols;
  const TileRows rows(w, row_bytes, j0);
  __m512 acc[kRowsW][kX];
  for (auto& row : acc)
    for (auto& v : row) v = _mm512_setzero_ps();
  for (int64_t c = 0; c < w.cols; c += 16) {
    const __mmask16 mask = first_lanes(w.cols - c);
    __m512 x[kX];
    for (int i = 0; i < kX; ++i) x[i] = _mm512_maskz_loadu_ps(mask, a.x + (r0 + i) * a.ldx + c);
    for (int j = 0; j < kRowsW; ++j) {
      prefetch_ahead(rows.row[j], c * element_bytes, row_bytes);
      const __m512 wv = load_float<F>(rows.row[j], c, mask);
      for (int i = 0; i < kX; ++i) acc[j][i] = _mm512_fmadd_ps(wv, x[i], acc[j][i]);
    }
  }
  for (int i = 0; i < kX; ++i)
    for (int j = 0; j < nw; ++j) store(a, r0 + i, j0 + j, _mm512_reduce_add_ps(acc[j][i]));
}

// Runs tile.template operator()<kX>(j0, nw, r0) over every tile of W (split across the pool) and
// of x, kX the tile's x rows.
template <class Tile>
void over_tiles(const WeightMatrixView& w, const GemvArgs& a, ThreadPool& pool, const Tile& tile) {
  const int64_t blocks = (w.rows + kRowsW - 1) / kRowsW;
  pool.parallel_for(blocks, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      const int64_t j0 = b * kRowsW;
      const int nw = static_cast<int>(std::min<int64_t>(kRowsW, w.rows - j0));
      for (int64_t r0 = 0; r0 < a.x_rows; r0 += kRowsX) {
        switch (std::min<int64_t>(kRowsX, a.x_rows - r0)) {
          case 1: tile.template operator()<1>(j0, nw, r0); break;
          case 2: tile.template operator()<2>(j0, nw, r0); break;
          case 3: tile.template operator()<3>(j0, nw, r0); break;
          default: tile.template operator()<4>(j0, nw, r0); break;
        }
      }
    }
  }, 16);
}

template <WeightFormat F>
void float_gemv(const WeightMatrixView& w, const GemvArgs& a, ThreadPool& pool) {
  over_tiles(w, a, pool, [&]<int kX>(int64_t j0, int nw, int64_t r0) { float_tile<F, kX>(w, a, j0, nw, r0); });
}

}  // namespace

void weight_gemv_avx512(const WeightMatrixView& w, const GemvArgs& a, ThreadPool& pool) {
  switch (w.format) {
    case WeightFormat::F32: return float_gemv<WeightFormat::F32>(w, a, pool);
    case WeightFormat::F16: return float_gemv<WeightFormat::F16>(w, a, pool);
    case WeightFormat::BF16: return float_gemv<WeightFormat::BF16>(w, a, pool);
    case WeightFormat::Int8:
    case WeightFormat::Int4: break;
  }
  throw Error(ErrorCode::InvalidArgument, "the AVX-512 weight GEMV reads float weights; int8 and int4 are packed first");
}

void dequantize_rows_avx512(const WeightMatrixView& w, int64_t r0, int64_t count, float* out, int64_t ld) {
  const RowReader reader{w, weight_row_bytes(w.format, w.cols), w.group ? w.cols / w.group : 0};
  for (int64_t r = 0; r < count; ++r)
    for (int64_t c = 0; c < w.cols; c += 16) {
      const int64_t n = std::min<int64_t>(16, w.cols - c);
      _mm512_mask_storeu_ps(out + r * ld + c, first_lanes(n), reader.load(r0 + r, c, n));
    }
}

}  // namespace kiln::kernels
