#include "kernels/cpu/transpose_bytes.h"

#include <emmintrin.h>

#include <algorithm>

namespace kiln::kernels {

void transpose_bytes(const uint8_t* src, int64_t rows, int64_t src_ld, uint8_t* dst, int64_t dst_ld, uint8_t flip,
                     int64_t c_begin, int64_t c_end) {
  const __m128i flip_bits = _mm_set1_epi8(static_cast<char>(flip));
  const int64_t full_rows = rows / 16 * 16, full_cols = c_begin + (c_end - c_begin) / 16 * 16;
  __m128i a[16], b[16];
  for (int64_t r0 = 0; r0 < full_rows; r0 += 16)
    for (int64_t c0 = c_begin; c0 < full_cols; c0 += 16) {
      for (int i = 0; i < 16; ++i)
        a[i] = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + (r0 + i) * src_ld + c0)), flip_bits);
      for (int round = 0; round < 4; ++round) {
        for (int i = 0; i < 8; ++i) {
          b[2 * i] = _mm_unpacklo_epi8(a[i], a[i + 8]);
          b[2 * i + 1] = _mm_unpackhi_epi8(a[i], a[i + 8]);
        }
        std::copy(b, b + 16, a);
      }
      for (int i = 0; i < 16; ++i) _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + (c0 + i) * dst_ld + r0), a[i]);
    }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = r < full_rows ? full_cols : c_begin; c < c_end; ++c) dst[c * dst_ld + r] = src[r * src_ld + c] ^ flip;
}


}  // namespace kiln::kernels
