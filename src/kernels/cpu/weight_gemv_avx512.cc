// The weight GEMV and dequantization for AVX-512. Each step converts 16 weights of a row to
// float (scaled by their group's scale for the quantized formats) and multiplies them into up to
// kRowsX rows of x at once, kRowsW weight rows side by side, so W is read exactly once per call.
#include <immintrin.h>

#include <algorithm>

#include "kernels/cpu/weight_gemv.h"

namespace kiln::kernels {
namespace {

constexpr int kRowsW = 4, kRowsX = 4;

struct RowReader {
  const WeightMatrixView& w;
  int64_t row_bytes, groups;

  // 16 weights of row r from column c (c a multiple of 16), the first `n` of them; the rest 0.
  __m512 load(int64_t r, int64_t c, int64_t n) const {
    const auto* row = static_cast<const uint8_t*>(w.data) + r * row_bytes;
    const __mmask16 mask = n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1);
    switch (w.format) {
      case WeightFormat::F32: return _mm512_maskz_loadu_ps(mask, row + 4 * c);
      case WeightFormat::F16: return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, row + 2 * c));
      case WeightFormat::BF16:
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mask, row + 2 * c)), 16));
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

// Outputs j0..j0+nw-1 for x rows r0..r0+nx-1.
void tile(const RowReader& reader, const GemvArgs& a, int64_t j0, int nw, int64_t r0, int nx) {
  const int64_t cols = reader.w.cols;
  __m512 acc[kRowsW][kRowsX];
  for (auto& row : acc)
    for (auto& v : row) v = _mm512_setzero_ps();
  for (int64_t c = 0; c < cols; c += 16) {
    const int64_t n = std::min<int64_t>(16, cols - c);
    const __mmask16 mask = n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1);
    __m512 x[kRowsX];
    for (int i = 0; i < nx; ++i) x[i] = _mm512_maskz_loadu_ps(mask, a.x + (r0 + i) * a.ldx + c);
    for (int j = 0; j < nw; ++j) {
      const __m512 wv = reader.load(j0 + j, c, n);
      for (int i = 0; i < nx; ++i) acc[j][i] = _mm512_fmadd_ps(wv, x[i], acc[j][i]);
    }
  }
  for (int i = 0; i < nx; ++i)
    for (int j = 0; j < nw; ++j) {
      float sum = _mm512_reduce_add_ps(acc[j][i]) + (a.bias ? a.bias[j0 + j] : 0.f);
      float& out = a.y[(r0 + i) * a.ldy + j0 + j];
      out = a.accumulate ? out + sum : sum;
    }
}

}  // namespace

void weight_gemv_avx512(const WeightMatrixView& w, const GemvArgs& a, ThreadPool& pool) {
  const RowReader reader{w, weight_row_bytes(w.format, w.cols), w.group ? w.cols / w.group : 0};
  const int64_t blocks = (w.rows + kRowsW - 1) / kRowsW;
  pool.parallel_for(blocks, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      const int64_t j0 = b * kRowsW;
      const int nw = static_cast<int>(std::min<int64_t>(kRowsW, w.rows - j0));
      for (int64_t r0 = 0; r0 < a.x_rows; r0 += kRowsX)
        tile(reader, a, j0, nw, r0, static_cast<int>(std::min<int64_t>(kRowsX, a.x_rows - r0)));
    }
  }, 16);
}

void dequantize_rows_avx512(const WeightMatrixView& w, int64_t r0, int64_t count, float* out, int64_t ld) {
  const RowReader reader{w, weight_row_bytes(w.format, w.cols), w.group ? w.cols / w.group : 0};
  for (int64_t r = 0; r < count; ++r)
    for (int64_t c = 0; c < w.cols; c += 16) {
      const int64_t n = std::min<int64_t>(16, w.cols - c);
      _mm512_mask_storeu_ps(out + r * ld + c, n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1),
                            reader.load(r0 + r, c, n));
    }
}

}  // namespace kiln::kernels
