// ggml's block-quantized formats as GGUF files store them, with the scalar dequantizers that
// define their values and the reference quantizers that produce them. Q8_0 and Q4_0 quantize each
// run of 32 consecutive elements of a row (ggml's ne[0], Kiln's last dim) with one float16 scale.
// The quantized matmul kernels read these same structs, so their layout is the file's, byte for
// byte.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

#include "kiln/dtype.h"

namespace kiln::llm {

// The blocks are read in place from a little-endian file.
static_assert(std::endian::native == std::endian::little, "GGUF blocks are read in place: little-endian hosts only");

// x[i] = d * qs[i].
struct BlockQ8_0 {
  static constexpr int64_t kElements = 32;
  Float16 d;
  int8_t qs[kElements];
};
static_assert(sizeof(BlockQ8_0) == 34);

// x[i] = d * (q[i] - 8), where q[i] is the low nibble of qs[i] for i < 16 and the high nibble of
// qs[i - 16] for i >= 16.
struct BlockQ4_0 {
  static constexpr int64_t kElements = 32;
  Float16 d;
  uint8_t qs[kElements / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

inline void dequantize_block(const BlockQ8_0& b, float* out) {
  const float d = to_float(b.d);
  for (int64_t i = 0; i < BlockQ8_0::kElements; ++i) out[i] = d * static_cast<float>(b.qs[i]);
}

inline void dequantize_block(const BlockQ4_0& b, float* out) {
  const float d = to_float(b.d);
  constexpr int64_t half = BlockQ4_0::kElements / 2;
  for (int64_t i = 0; i < half; ++i) {
    out[i] = d * static_cast<float>((b.qs[i] & 0x0f) - 8);
    out[i + half] = d * static_cast<float>((b.qs[i] >> 4) - 8);
  }
}

// As ggml's reference quantizer: d = max|x| / 127 and q = round(x * (1/d)), multiplying by the
// reciprocal as ggml does so that the codes match llama.cpp's bit for bit.
inline BlockQ8_0 quantize_block_q8_0(const float* x) {
  float amax = 0.f;
  for (int64_t i = 0; i < BlockQ8_0::kElements; ++i) amax = std::max(amax, std::fabs(x[i]));
  const float d = amax / 127.f;
  const float id = d != 0.f ? 1.f / d : 0.f;
  BlockQ8_0 b;
  b.d = to_float16(d);
  for (int64_t i = 0; i < BlockQ8_0::kElements; ++i) b.qs[i] = static_cast<int8_t>(std::round(x[i] * id));
  return b;
}

// As ggml's reference quantizer: d is the element of largest magnitude, sign kept, over -8, so
// that element maps to code 0 exactly and the others into [0, 15]; q = min(15, trunc(x/d + 8.5)).
inline BlockQ4_0 quantize_block_q4_0(const float* x) {
  float amax = 0.f, max = 0.f;
  for (int64_t i = 0; i < BlockQ4_0::kElements; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  }
  const float d = max / -8.f;
  const float id = d != 0.f ? 1.f / d : 0.f;
  BlockQ4_0 b;
  b.d = to_float16(d);
  constexpr int64_t half = BlockQ4_0::kElements / 2;
  for (int64_t i = 0; i < half; ++i) {
    const auto lo = std::min(15, static_cast<int>(x[i] * id + 8.5f));
    const auto hi = std::min(15, static_cast<int>(x[i + half] * id + 8.5f));
    b.qs[i] = static_cast<uint8_t>(lo | hi << 4);
  }
  return b;
}

}  // namespace kiln::llm
