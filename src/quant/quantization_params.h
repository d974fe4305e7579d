// Scales and zero points from calibrated ranges, and the quantization of weights: the arithmetic
// the quantizer writes into a QDQ model's initializers.
#pragma once

#include <cstdint>
#include <vector>

#include "kiln/tensor.h"

namespace kiln::quant {

// Activations: uint8 asymmetric (ONNX Runtime's default QUInt8) or int8 symmetric around zero.
enum class ActivationType { UInt8, Int8 };

struct TensorQuantization {
  float scale = 1.f;
  int32_t zero_point = 0;
  DType dtype = DType::UInt8;
};

// The parameters mapping [low, high], widened to hold 0 (so that zero is exact, as padding and
// ReLU need), onto the type's range: uint8 asymmetric over [0, 255], int8 symmetric over
// [-127, 127]. A range of width 0 gets scale 1 instead of a division by zero.
TensorQuantization activation_quantization(float low, float high, ActivationType type);

// Symmetric int8 weights: per channel along `axis` (one scale per slice, max|w| / 127), or per
// tensor when axis < 0. Zero points are 0.
struct QuantizedWeight {
  Tensor values;                // int8, w's shape
  Tensor scales;                // float32 [channels], or a scalar per tensor
  Tensor zero_points;           // int8, scales' shape
};
QuantizedWeight quantize_weight(const Tensor& w, int64_t axis);

// An int32 bias quantized with scale input_scale * weight_scales[c] (zero point 0), as QLinearConv
// and ONNX Runtime's QDQ quantizer take it. Returns the values and their scales.
struct QuantizedBias {
  Tensor values;  // int32 [channels]
  Tensor scales;  // float32 [channels], or a scalar for per-tensor weight scales
};
QuantizedBias quantize_bias(const Tensor& bias, float input_scale, const Tensor& weight_scales);

}  // namespace kiln::quant
