// Vectorized transpose of a matrix of 32-bit elements (VecIsa::transpose_32): 8 x 8 blocks moved
// through registers with the classic unpack / shuffle / 128-bit-permute network, 24 shuffles per
// 64 elements instead of 64 scattered scalar moves. The compiler cannot find this network by
// itself, hence intrinsics; they are AVX2 instructions, which both ISA tables may use.
//
// Internal linkage, for the reason given in vec_math.h.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace kiln::kernels {
namespace {

inline void transpose_8x8(const uint32_t* src, int64_t src_ld, uint32_t* dst, int64_t dst_ld) {
  __m256 r[8];
  for (int k = 0; k < 8; ++k) r[k] = _mm256_loadu_ps(reinterpret_cast<const float*>(src + k * src_ld));
  // Pairs of rows interleaved, then pairs of pairs: each 128-bit lane holds a 4 x 4 transpose.
  __m256 t[8], s[8];
  for (int k = 0; k < 8; k += 2) {
    t[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);
    t[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]);
  }
  for (int k = 0; k < 8; k += 4) {
    s[k] = _mm256_shuffle_ps(t[k], t[k + 2], _MM_SHUFFLE(1, 0, 1, 0));
    s[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], _MM_SHUFFLE(3, 2, 3, 2));
    s[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], _MM_SHUFFLE(1, 0, 1, 0));
    s[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  // Low lanes of rows 0-3 with low lanes of rows 4-7 make output rows 0-3; high lanes rows 4-7.
  for (int k = 0; k < 4; ++k) {
    _mm256_storeu_ps(reinterpret_cast<float*>(dst + k * dst_ld), _mm256_permute2f128_ps(s[k], s[k + 4], 0x20));
    _mm256_storeu_ps(reinterpret_cast<float*>(dst + (k + 4) * dst_ld), _mm256_permute2f128_ps(s[k], s[k + 4], 0x31));
  }
}

// Starts of 8-wide blocks covering [0, n) for n >= 8: the last block ends at n, overlapping the one
// before it when 8 does not divide n (its elements are then written twice, with the same values).
inline int64_t next_block_start(int64_t start, int64_t n) { return start + 8 < n && start + 16 > n ? n - 8 : start + 8; }

// dst[c * dst_ld + r] = src[r * src_ld + c] for r < rows, c < cols (dst must not overlap src).
[[maybe_unused]] void vec_transpose_32(const uint32_t* src, int64_t src_ld, uint32_t* dst, int64_t dst_ld,
                                       int64_t rows, int64_t cols) {
  if (rows < 8 || cols < 8) {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) dst[c * dst_ld + r] = src[r * src_ld + c];
    return;
  }
  for (int64_t r = 0; r + 8 <= rows; r = next_block_start(r, rows))
    for (int64_t c = 0; c + 8 <= cols; c = next_block_start(c, cols))
      transpose_8x8(src + r * src_ld + c, src_ld, dst + c * dst_ld + r, dst_ld);
}

}  // namespace
}  // namespace kiln::kernels
