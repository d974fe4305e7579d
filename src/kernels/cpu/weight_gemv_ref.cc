#include <cstring>

#include "kernels/cpu/weight_gemv.h"
#include "kiln/dtype.h"

namespace kiln::kernels {
namespace {

// Element c of row r of W.
float weight_at(const WeightMatrixView& w, int64_t r, int64_t c) {
  const auto* row = static_cast<const uint8_t*>(w.data) + r * weight_row_bytes(w.format, w.cols);
  switch (w.format) {
    case WeightFormat::F32: {
      float v;
      std::memcpy(&v, row + 4 * c, 4);
      return v;
    }
    case WeightFormat::F16: {
      Float16 h;
      std::memcpy(&h.bits, row + 2 * c, 2);
      return to_float(h);
    }
    case WeightFormat::BF16: {
      BFloat16 b;
      std::memcpy(&b.bits, row + 2 * c, 2);
      return to_float(b);
    }
    case WeightFormat::Int8:
      return w.scales[r * (w.cols / w.group) + c / w.group] * static_cast<float>(static_cast<int8_t>(row[c]));
    case WeightFormat::Int4: {
      const uint8_t byte = row[c / 32 * 16 + c % 16];
      const int q = c % 32 < 16 ? byte & 0x0F : byte >> 4;
      return w.scales[r * (w.cols / w.group) + c / w.group] * static_cast<float>(q - 8);
    }
  }
  return 0.f;
}

}  // namespace

const char* weight_format_name(WeightFormat format) {
  switch (format) {
    case WeightFormat::F32: return "f32";
    case WeightFormat::F16: return "f16";
    case WeightFormat::BF16: return "bf16";
    case WeightFormat::Int8: return "int8";
    case WeightFormat::Int4: return "int4";
  }
  return "?";
}

int64_t weight_row_bytes(WeightFormat format, int64_t cols) {
  switch (format) {
    case WeightFormat::F32: return 4 * cols;
    case WeightFormat::F16:
    case WeightFormat::BF16: return 2 * cols;
    case WeightFormat::Int8: return cols;
    case WeightFormat::Int4: return cols / 2;
  }
  return 0;
}

void weight_gemv_ref(const WeightMatrixView& w, const GemvArgs& a, int64_t j0, int64_t j1) {
  for (int64_t r = 0; r < a.x_rows; ++r)
    for (int64_t j = j0; j < j1; ++j) {
      float sum = a.bias ? a.bias[j] : 0.f;
      for (int64_t c = 0; c < w.cols; ++c) sum += a.x[r * a.ldx + c] * weight_at(w, j, c);
      float& out = a.y[r * a.ldy + j];
      out = a.accumulate ? out + sum : sum;
    }
}

void dequantize_rows_ref(const WeightMatrixView& w, int64_t r0, int64_t count, float* out, int64_t ld) {
  for (int64_t r = 0; r < count; ++r)
    for (int64_t c = 0; c < w.cols; ++c) out[r * ld + c] = weight_at(w, r0 + r, c);
}

}  // namespace kiln::kernels
