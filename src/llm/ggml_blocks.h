// ggml's block-quantized formats as GGUF files store them, with the scalar dequantizers that
// define their values and the reference quantizers that produce them. Q8_0 and Q4_0 quantize each
// run of 32 consecutive elements of a row (ggml's ne[0], Kiln's last dim) with one float16 scale.
// The quantized matmul kernels read these same structs, so their layout is the file's, byte for
// byte.
#pragma once

#include <bit>
#include <cstdint>

#include "kernels/cpu/weight_quantize.h"
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

// ggml's reference quantizers, which kernels/cpu/weight_quantize.h reproduces for groups of any
// size; a block keeps the scale as float16.
inline BlockQ8_0 quantize_block_q8_0(const float* x) {
  BlockQ8_0 b;
  float d;
  kernels::quantize_int8_row(x, BlockQ8_0::kElements, BlockQ8_0::kElements, b.qs, &d);
  b.d = to_float16(d);
  return b;
}

inline BlockQ4_0 quantize_block_q4_0(const float* x) {
  BlockQ4_0 b;
  float d;
  kernels::quantize_int4_row(x, BlockQ4_0::kElements, BlockQ4_0::kElements, b.qs, &d);
  b.d = to_float16(d);
  return b;
}

}  // namespace kiln::llm
