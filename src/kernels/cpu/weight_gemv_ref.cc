#include <algorithm>
#include <cstring>

#include "kernels/cpu/quantized_activations.h"
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
    case WeightFormat::Int4:
      return w.scales[r * (w.cols / w.group) + c / w.group] * static_cast<float>(weight_code(w, r, c));
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

namespace {

void store(const GemvArgs& a, int64_t r, int64_t j, float sum) {
  float& out = a.y[r * a.ldy + j];
  sum += a.bias ? a.bias[j] : 0.f;
  out = a.accumulate ? out + sum : sum;
}

// Int8 and Int4 weights meet x quantized per block of 32 (quantized_activations.h): per block, an
// exact integer dot times the weight's and the block's scales.
void integer_gemv_ref(const WeightMatrixView& w, const GemvArgs& a, int64_t j0, int64_t j1) {
  QuantizedActivations x;
  prepare_quantized_activations(a.x_rows, w.cols, x);
  quantize_activation_rows_ref(a.x, a.ldx, 0, a.x_rows, x);
  const int64_t groups = w.cols / w.group;
  for (int64_t r = 0; r < a.x_rows; ++r)
    for (int64_t j = j0; j < j1; ++j) {
      float sum = 0.f;
      for (int64_t c0 = 0; c0 < w.cols; c0 += 32) {
        int32_t dot = 0;
        for (int64_t c = c0; c < std::min(w.cols, c0 + 32); ++c) dot += weight_code(w, j, c) * x.row(r)[c];
        sum += w.scales[j * groups + c0 / w.group] * x.scale.data()[r * x.blocks + c0 / 32] * static_cast<float>(dot);
      }
      store(a, r, j, sum);
    }
}

}  // namespace

void weight_gemv_ref(const WeightMatrixView& w, const GemvArgs& a, int64_t j0, int64_t j1) {
  if (w.format == WeightFormat::Int8 || w.format == WeightFormat::Int4) return integer_gemv_ref(w, a, j0, j1);
  for (int64_t r = 0; r < a.x_rows; ++r)
    for (int64_t j = j0; j < j1; ++j) {
      float sum = 0.f;
      for (int64_t c = 0; c < w.cols; ++c) sum += a.x[r * a.ldx + c] * weight_at(w, j, c);
      store(a, r, j, sum);
    }
}

void dequantize_rows_ref(const WeightMatrixView& w, int64_t r0, int64_t count, float* out, int64_t ld) {
  for (int64_t r = 0; r < count; ++r)
    for (int64_t c = 0; c < w.cols; ++c) out[r * ld + c] = weight_at(w, r0 + r, c);
}

}  // namespace kiln::kernels
