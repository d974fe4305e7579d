// The weight GEMV and dequantization for AVX-512. Float weights: each step converts 16 weights of
// a row to float and multiplies them into up to kRowsX rows of x at once, kRowsW weight rows side
// by side, so W is read exactly once per call. Int8 and Int4 weights: the same tiling over integer
// dots with x quantized to int8 (quantized_activations.h), which does 4x the work per instruction.
#include <immintrin.h>

#include <algorithm>

#include "kernels/cpu/quantized_activations.h"
#include "kernels/cpu/weight_gemv.h"

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

// Int8 and Int4 weights against quantized x (quantized_activations.h), 64 columns per step: one
// VNNI dot per weight row and x row gives 16 lanes of 4-column integer sums, which are scaled by
// their blocks' x scales (and weight scales, unless a row has one) into float accumulators.
template <bool kInt4, bool kRowScale, int kX>
void integer_tile(const WeightMatrixView& w, const QuantizedActivations& x, const GemvArgs& a, int64_t j0, int nw,
                  int64_t r0) {
  const int64_t row_bytes = weight_row_bytes(w.format, w.cols), groups = w.cols / w.group;
  const int64_t chunks = x.padded_cols / 64, blocks = (w.cols + 31) / 32;
  const TileRows rows(w, row_bytes, j0);
  const float* scales[kRowsW];
  for (int j = 0; j < kRowsW; ++j) scales[j] = w.scales + std::min(j0 + j, w.rows - 1) * groups;
  // Lane l of a dot sums bytes 4l..4l+3: for Int8 the first 8 lanes are the chunk's first block,
  // for Int4 the lanes alternate between its blocks every 4.
  const __m512i block_of_lane = kInt4 ? _mm512_set_epi32(1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0)
                                      : _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m512i nibble_shift = _mm512_set_epi64(4 * 0x0001000100010001, 4 * 0x0001000100010001, 4 * 0x0001000100010001,
                                                4 * 0x0001000100010001, 0, 0, 0, 0);
  __m512 acc[kRowsW][kX];
  for (auto& row : acc)
    for (auto& v : row) v = _mm512_setzero_ps();
  for (int64_t k = 0; k < chunks; ++k) {
    __m512i wv[kRowsW];
    __m512 weight_scale[kRowsW];
    for (int j = 0; j < kRowsW; ++j) {
      prefetch_ahead(rows.row[j], k * (kInt4 ? 32 : 64), row_bytes);
      if constexpr (kInt4) {
        // The chunk's 32 bytes in both halves, the upper half shifted down a nibble: low nibbles
        // then high ones, the lane order of quantized_activations.h.
        const __m512i packed = k * 32 + 32 <= row_bytes
                                   ? _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows.row[j] + k * 32)))
                                   : _mm512_broadcast_i64x4(_mm256_maskz_loadu_epi8(0xFFFF, rows.row[j] + k * 32));
        wv[j] = _mm512_and_si512(_mm512_srlv_epi16(packed, nibble_shift), _mm512_set1_epi8(0x0F));
      } else {
        const int64_t n = std::min<int64_t>(64, w.cols - k * 64);
        const __m512i q = _mm512_maskz_loadu_epi8(n >= 64 ? ~__mmask64(0) : (__mmask64(1) << n) - 1, rows.row[j] + k * 64);
        wv[j] = _mm512_xor_si512(q, _mm512_set1_epi8(static_cast<char>(0x80)));
      }
      if constexpr (!kRowScale) {
        // Groups of 64 or more cover the chunk with one scale; groups of 32 give it two, side by side.
        if (w.group > 32 || 2 * k + 1 >= blocks)
          weight_scale[j] = _mm512_set1_ps(scales[j][2 * k * 32 / w.group]);
        else
          weight_scale[j] = _mm512_permutexvar_ps(
              block_of_lane,
              _mm512_castps128_ps512(_mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i_u*>(scales[j] + 2 * k)))));
      }
    }
    for (int i = 0; i < kX; ++i) {
      const __m512i xv = _mm512_load_si512(x.q.data() + (r0 + i) * x.padded_cols + k * 64);
      const __m512 xs = _mm512_load_ps(x.lane_scale.data() + ((r0 + i) * chunks + k) * 16);
      for (int j = 0; j < kRowsW; ++j) {
        __m512 dot = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), wv[j], xv));
        if constexpr (!kRowScale) dot = _mm512_mul_ps(dot, weight_scale[j]);
        acc[j][i] = _mm512_fmadd_ps(dot, xs, acc[j][i]);
      }
    }
  }
  for (int i = 0; i < kX; ++i) {
    const float* group_offset = x.group_offset.data() + (r0 + i) * groups;
    for (int j = 0; j < nw; ++j) {
      float sum = _mm512_reduce_add_ps(acc[j][i]);
      if constexpr (kRowScale) {
        sum = scales[j][0] * (sum - group_offset[0]);
      } else {
        __m512 offsets = _mm512_setzero_ps();
        for (int64_t g = 0; g < groups; g += 16) {
          const __mmask16 m = first_lanes(groups - g);
          offsets = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, scales[j] + g), _mm512_maskz_loadu_ps(m, group_offset + g), offsets);
        }
        sum -= _mm512_reduce_add_ps(offsets);
      }
      store(a, r0 + i, j0 + j, sum);
    }
  }
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

template <bool kInt4, bool kRowScale>
void integer_gemv(const WeightMatrixView& w, const QuantizedActivations& x, const GemvArgs& a, ThreadPool& pool) {
  over_tiles(w, a, pool, [&]<int kX>(int64_t j0, int nw, int64_t r0) { integer_tile<kInt4, kRowScale, kX>(w, x, a, j0, nw, r0); });
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
  // Kept between calls (decode quantizes x at every step); the workers read the caller's copy.
  thread_local QuantizedActivations callers_x;
  QuantizedActivations& x = callers_x;
  quantize_activations(w, a.x, a.ldx, a.x_rows, x);
  if (w.format == WeightFormat::Int4) return integer_gemv<true, false>(w, x, a, pool);
  if (w.group == w.cols) return integer_gemv<false, true>(w, x, a, pool);
  integer_gemv<false, false>(w, x, a, pool);
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
