#include "kernels/cpu/norm_ref.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/broadcast.h"

namespace kiln::kernels {
namespace {

struct Moments {
  double mean = 0;
  double variance = 0;  // biased (divided by n), as every ONNX normalization defines it
};

// Two passes (mean, then squared deviations) avoid the cancellation of E[x^2] - E[x]^2.
Moments moments(const float* x, int64_t n) {
  if (n == 0) return {};
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  const double mean = sum / static_cast<double>(n);
  double squares = 0;
  for (int64_t i = 0; i < n; ++i) squares += (x[i] - mean) * (x[i] - mean);
  return {mean, squares / static_cast<double>(n)};
}

// y = x * multiplier + offset over one contiguous run: the shared epilogue of the channel norms.
void scale_shift(const float* x, float* y, int64_t n, float multiplier, float offset) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * multiplier + offset;
}

}  // namespace

ChannelAffine batch_norm_affine(float scale, float bias, float mean, float var, float epsilon) {
  const double multiplier = scale / std::sqrt(static_cast<double>(var) + epsilon);
  return {static_cast<float>(multiplier), static_cast<float>(bias - mean * multiplier)};
}

void batch_norm_inference_ref(const float* x, float* y, int64_t batch, int64_t channels, int64_t spatial,
                              const float* scale, const float* bias, const float* mean, const float* var,
                              float epsilon) {
  for (int64_t c = 0; c < channels; ++c) {
    const ChannelAffine affine = batch_norm_affine(scale[c], bias[c], mean[c], var[c], epsilon);
    for (int64_t n = 0; n < batch; ++n) {
      const int64_t base = (n * channels + c) * spatial;
      scale_shift(x + base, y + base, spatial, affine.multiplier, affine.offset);
    }
  }
}

void instance_norm_ref(const float* x, float* y, int64_t batch, int64_t channels, int64_t spatial,
                       const float* scale, const float* bias, float epsilon) {
  for (int64_t plane = 0; plane < batch * channels; ++plane) {
    const int64_t c = plane % channels;
    const float* xp = x + plane * spatial;
    const Moments m = moments(xp, spatial);
    const double multiplier = scale[c] / std::sqrt(m.variance + epsilon);
    scale_shift(xp, y + plane * spatial, spatial, static_cast<float>(multiplier),
                static_cast<float>(bias[c] - m.mean * multiplier));
  }
}

void layer_norm_ref(const float* x, float* y, int64_t rows, int64_t cols, const float* scale, const float* bias,
                    float epsilon, float* mean_out, float* inv_std_dev_out) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    const Moments m = moments(xr, cols);
    const double inv_std_dev = 1.0 / std::sqrt(m.variance + epsilon);
    for (int64_t i = 0; i < cols; ++i) {
      const float normalized = static_cast<float>((xr[i] - m.mean) * inv_std_dev);
      yr[i] = normalized * scale[i] + (bias ? bias[i] : 0.f);
    }
    if (mean_out) mean_out[r] = static_cast<float>(m.mean);
    if (inv_std_dev_out) inv_std_dev_out[r] = static_cast<float>(inv_std_dev);
  }
}

void rms_norm_ref(const float* x, float* y, int64_t rows, int64_t cols, const float* scale, float epsilon) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    double squares = 0;
    for (int64_t i = 0; i < cols; ++i) squares += static_cast<double>(xr[i]) * xr[i];
    const double inv_rms = 1.0 / std::sqrt(squares / static_cast<double>(std::max<int64_t>(cols, 1)) + epsilon);
    for (int64_t i = 0; i < cols; ++i) yr[i] = static_cast<float>(xr[i] * inv_rms) * scale[i];
  }
}

void lrn_ref(const float* x, float* y, int64_t batch, int64_t channels, int64_t spatial, int64_t size, float alpha,
             float beta, float bias) {
  // The window around channel c is [c - floor((size-1)/2), c + ceil((size-1)/2)], clipped.
  const int64_t before = (size - 1) / 2, after = size - 1 - before;
  const double alpha_over_size = static_cast<double>(alpha) / static_cast<double>(size);
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t c = 0; c < channels; ++c) {
      const int64_t first = std::max<int64_t>(0, c - before), last = std::min(channels - 1, c + after);
      for (int64_t s = 0; s < spatial; ++s) {
        double square_sum = 0;
        for (int64_t k = first; k <= last; ++k) {
          const double v = x[(n * channels + k) * spatial + s];
          square_sum += v * v;
        }
        const int64_t i = (n * channels + c) * spatial + s;
        y[i] = static_cast<float>(x[i] / std::pow(bias + alpha_over_size * square_sum, static_cast<double>(beta)));
      }
    }
}

void mean_variance_normalize_ref(const float* x, float* y, const Shape& shape, const std::vector<bool>& reduced,
                                 float epsilon) {
  // Statistics live in a tensor of the kept shape (reduced axes set to 1); its broadcast strides
  // map every element to its group.
  Shape kept = shape;
  for (size_t d = 0; d < shape.size(); ++d)
    if (reduced[d]) kept[d] = 1;
  const int64_t groups = shape_numel(kept);
  const double group_size = static_cast<double>(shape_numel(shape)) / static_cast<double>(std::max<int64_t>(groups, 1));
  const std::vector<int64_t> strides[1] = {broadcast_strides(kept, shape)};
  std::vector<double> mean(static_cast<size_t>(groups), 0.0), divisor(static_cast<size_t>(groups), 0.0);
  for_each_broadcast(shape, strides, [&](int64_t i, const int64_t* g) { mean[g[0]] += x[i]; });
  for (double& m : mean) m /= group_size;
  for_each_broadcast(shape, strides, [&](int64_t i, const int64_t* g) {
    const double d = x[i] - mean[g[0]];
    divisor[g[0]] += d * d;
  });
  for (double& d : divisor) d = std::sqrt(d / group_size) + epsilon;
  for_each_broadcast(shape, strides,
                     [&](int64_t i, const int64_t* g) { y[i] = static_cast<float>((x[i] - mean[g[0]]) / divisor[g[0]]); });
}

}  // namespace kiln::kernels
