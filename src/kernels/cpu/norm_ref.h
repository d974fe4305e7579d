// Normalizations of dense float tensors. Channel-wise ones see the input as [batch, channels,
// spatial] (spatial: the product of the dims after the channel dim). Statistics are accumulated in
// double, so results do not drift with the size of the normalized group.
#pragma once

#include <cstdint>
#include <vector>

#include "kiln/tensor.h"

namespace kiln::kernels {

// Inference batch normalization of one channel as the affine map y = x * multiplier + offset.
struct ChannelAffine {
  float multiplier, offset;
};
ChannelAffine batch_norm_affine(float scale, float bias, float mean, float var, float epsilon);

// Y = (X - mean[c]) / sqrt(var[c] + epsilon) * scale[c] + bias[c], with stored (running) statistics.
void batch_norm_inference_ref(const float* x, float* y, int64_t batch, int64_t channels, int64_t spatial,
                              const float* scale, const float* bias, const float* mean, const float* var,
                              float epsilon);

// Each (n, c) plane normalized by its own mean and variance, then scale[c] and bias[c] applied.
void instance_norm_ref(const float* x, float* y, int64_t batch, int64_t channels, int64_t spatial,
                       const float* scale, const float* bias, float epsilon);

// Each of `rows` rows of `cols` values normalized by its own statistics, then scaled and shifted
// element-wise (scale and bias hold `cols` values; bias may be null). mean_out and
// inv_std_dev_out, when not null, receive one value per row.
void layer_norm_ref(const float* x, float* y, int64_t rows, int64_t cols, const float* scale, const float* bias,
                    float epsilon, float* mean_out, float* inv_std_dev_out);

// RMSNormalization: each of `rows` rows of `cols` values divided by its root mean square
// sqrt(mean(x^2) + epsilon), then scaled element-wise by `scale` (cols values).
void rms_norm_ref(const float* x, float* y, int64_t rows, int64_t cols, const float* scale, float epsilon);

// Local response normalization across channels: each value divided by
// (bias + alpha / size * sum of squares over the `size` neighbouring channels) ^ beta.
void lrn_ref(const float* x, float* y, int64_t batch, int64_t channels, int64_t spatial, int64_t size, float alpha,
             float beta, float bias);

// Zero mean and unit variance over the axes where `reduced` is true:
// Y = (X - mean) / (sqrt(variance) + epsilon), ONNX's MeanVarianceNormalization.
void mean_variance_normalize_ref(const float* x, float* y, const Shape& shape, const std::vector<bool>& reduced,
                                 float epsilon);

}  // namespace kiln::kernels
