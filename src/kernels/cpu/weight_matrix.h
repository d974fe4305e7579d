// A linear layer's weight W [rows = outputs, cols = inputs] in the format an LLM stores it:
// float32, float16 or bfloat16 row-major, or quantized in groups of `group` consecutive inputs
// of a row, each group with one float scale:
//   Int8: int8 q, w = scale * q (group == cols is per-channel; group 32 is GGUF's Q8_0);
//   Int4: 4-bit q in 0..15, w = scale * (q - 8); each run of 32 inputs is 16 bytes, the low
//         nibbles holding inputs 0..15 and the high nibbles 16..31 (GGUF's Q4_0 layout), so a
//         group is a multiple of 32.
// The kernels (kernels/cpu/weight_gemv.h) read it in place: decode streams it once per step.
#pragma once

#include <cstdint>

namespace kiln::kernels {

enum class WeightFormat { F32, F16, BF16, Int8, Int4 };

struct WeightMatrixView {
  WeightFormat format = WeightFormat::F32;
  int64_t rows = 0, cols = 0;
  int64_t group = 0;              // Int8 / Int4: inputs per scale
  const void* data = nullptr;     // row r starts at row_bytes(r)
  const float* scales = nullptr;  // [rows, cols / group]
};

const char* weight_format_name(WeightFormat format);
// Bytes of one row's elements.
inline int64_t weight_row_bytes(WeightFormat format, int64_t cols) {
  switch (format) {
    case WeightFormat::F32: return 4 * cols;
    case WeightFormat::F16:
    case WeightFormat::BF16: return 2 * cols;
    case WeightFormat::Int8: return cols;
    case WeightFormat::Int4: return cols / 2;
  }
  return 0;
}

// An Int8 or Int4 weight's signed code at row r, column c: w = scale * code.
inline int32_t weight_code(const WeightMatrixView& w, int64_t r, int64_t c) {
  const auto* row = static_cast<const uint8_t*>(w.data) + r * weight_row_bytes(w.format, w.cols);
  if (w.format == WeightFormat::Int8) return static_cast<int8_t>(row[c]);
  const uint8_t byte = row[c / 32 * 16 + c % 16];
  return (c % 32 < 16 ? byte & 0x0F : byte >> 4) - 8;
}

}  // namespace kiln::kernels
