// Per-tensor linear quantization of float32 to 8 bits and back, the hot form of QuantizeLinear,
// DequantizeLinear, DynamicQuantizeLinear and the QDQ pairs a quantized model leaves between int8
// kernels. Every level computes quantize_linear_ref's and dequantize_linear_ref's values bit for
// bit: x / scale in float, rounded to nearest even, plus the zero point, saturated (NaN to 0);
// (q - zero_point) * scale in float.
#pragma once

#include <cstdint>

#include "core/cpu_features.h"
#include "kernels/cpu/quant_ref.h"

namespace kiln::kernels {

// y[i] = quantized x[i] for i in [0, n). Q is uint8_t or int8_t.
template <class Q>
void quantize_per_tensor(CpuLevel level, const float* x, Q* y, int64_t n, float scale, int32_t zero_point);
template <class Q>
void dequantize_per_tensor(CpuLevel level, const Q* x, float* y, int64_t n, float scale, int32_t zero_point);

// DynamicQuantizeLinear's parameters (dynamic_quant_params_uint8), by the kernel for `level`.
QuantParams dynamic_quant_params_uint8(CpuLevel level, const float* x, int64_t n);
QuantParams dynamic_quant_params_uint8_avx512(const float* x, int64_t n);

template <class Q>
void quantize_per_tensor_avx512(const float* x, Q* y, int64_t n, float scale, int32_t zero_point);
template <class Q>
void dequantize_per_tensor_avx512(const Q* x, float* y, int64_t n, float scale, int32_t zero_point);

}  // namespace kiln::kernels
