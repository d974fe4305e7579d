#include "kernels/cpu/quantize_linear.h"

#include "kernels/cpu/quant_ref.h"

namespace kiln::kernels {

template <class Q>
void quantize_per_tensor(CpuLevel level, const float* x, Q* y, int64_t n, float scale, int32_t zero_point) {
  if (level >= CpuLevel::Avx512) return quantize_per_tensor_avx512(x, y, n, scale, zero_point);
  quantize_linear_ref(x, y, 0, n, {}, &scale, &zero_point);
}

template <class Q>
void dequantize_per_tensor(CpuLevel level, const Q* x, float* y, int64_t n, float scale, int32_t zero_point) {
  if (level >= CpuLevel::Avx512) return dequantize_per_tensor_avx512(x, y, n, scale, zero_point);
  dequantize_linear_ref(x, y, 0, n, {}, &scale, &zero_point);
}

QuantParams dynamic_quant_params_uint8(CpuLevel level, const float* x, int64_t n) {
  if (level >= CpuLevel::Avx512) return dynamic_quant_params_uint8_avx512(x, n);
  return dynamic_quant_params_uint8(x, n);
}

template void quantize_per_tensor(CpuLevel, const float*, uint8_t*, int64_t, float, int32_t);
template void quantize_per_tensor(CpuLevel, const float*, int8_t*, int64_t, float, int32_t);
template void dequantize_per_tensor(CpuLevel, const uint8_t*, float*, int64_t, float, int32_t);
template void dequantize_per_tensor(CpuLevel, const int8_t*, float*, int64_t, float, int32_t);

}  // namespace kiln::kernels
