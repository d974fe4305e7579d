#include "quant/quantization_params.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/quant_ref.h"
#include "kiln/error.h"

namespace kiln::quant {

TensorQuantization activation_quantization(float low, float high, ActivationType type) {
  low = std::min(low, 0.f);
  high = std::max(high, 0.f);
  TensorQuantization q;
  if (type == ActivationType::Int8) {
    q.dtype = DType::Int8;
    const float magnitude = std::max(-low, high);
    q.scale = magnitude > 0 ? magnitude / 127.f : 1.f;
    return q;
  }
  q.dtype = DType::UInt8;
  if (!(high > low)) return q;
  q.scale = (high - low) / 255.f;
  q.zero_point = static_cast<int32_t>(std::clamp(std::nearbyint(-low / q.scale), 0.f, 255.f));
  return q;
}

QuantizedWeight quantize_weight(const Tensor& w, int64_t axis) {
  if (w.dtype() != DType::Float32) throw Error(ErrorCode::InvalidArgument, "only float32 weights can be quantized");
  kernels::ChannelLayout layout;
  if (axis >= 0) {
    layout.channels = w.dim(static_cast<size_t>(axis));
    for (size_t d = static_cast<size_t>(axis) + 1; d < w.rank(); ++d) layout.inner *= w.dim(d);
  }
  const float* x = w.data<float>();
  std::vector<float> magnitudes(static_cast<size_t>(layout.channels), 0.f);
  for (int64_t e = 0; e < w.numel(); ++e) {
    float& m = magnitudes[static_cast<size_t>(e / layout.inner % layout.channels)];
    m = std::max(m, std::fabs(x[e]));
  }
  std::vector<float> scales(magnitudes.size());
  for (size_t c = 0; c < scales.size(); ++c) scales[c] = magnitudes[c] > 0 ? magnitudes[c] / 127.f : 1.f;
  const std::vector<int32_t> zeros(scales.size(), 0);
  QuantizedWeight q;
  q.values = Tensor(DType::Int8, w.shape());
  kernels::quantize_linear_ref(x, q.values.data<int8_t>(), 0, w.numel(), layout, scales.data(), zeros.data());
  const Shape shape = axis >= 0 ? Shape{layout.channels} : Shape{};
  q.scales = Tensor::from_vector<float>(shape, scales);
  q.zero_points = Tensor::zeros(DType::Int8, shape);
  return q;
}

QuantizedBias quantize_bias(const Tensor& bias, float input_scale, const Tensor& weight_scales) {
  const int64_t channels = bias.numel();
  const float* b = bias.data<float>();
  const float* ws = weight_scales.data<float>();
  const bool per_channel = weight_scales.numel() > 1;
  QuantizedBias q{Tensor(DType::Int32, {channels}), Tensor::scalar<float>(input_scale * ws[0])};
  if (per_channel) q.scales = Tensor(DType::Float32, {channels});
  for (int64_t c = 0; c < channels; ++c) {
    const float scale = input_scale * ws[per_channel ? c : 0];
    if (per_channel) q.scales.data<float>()[c] = scale;
    // A bias beyond int32 at this scale would be one no weight could balance: saturate it.
    const double value = scale > 0 ? std::nearbyint(static_cast<double>(b[c]) / scale) : 0.0;
    q.values.data<int32_t>()[c] = static_cast<int32_t>(std::clamp(value, -2147483648.0, 2147483647.0));
  }
  return q;
}

}  // namespace kiln::quant
