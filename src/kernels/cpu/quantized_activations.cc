#include "kernels/cpu/quantized_activations.h"

#include <algorithm>
#include <cmath>

namespace kiln::kernels {

int64_t QuantizedActivations::position(WeightFormat format, int64_t c) const {
  if (format != WeightFormat::Int4) return c;
  const int64_t chunk = c / 64 * 64, block = c % 64 / 32, k = c % 32;
  return chunk + (k < 16 ? 0 : 32) + block * 16 + k % 16;
}

void quantize_activations(const WeightMatrixView& w, const float* x, int64_t ldx, int64_t rows,
                          QuantizedActivations& out) {
  out.rows = rows;
  out.cols = w.cols;
  out.padded_cols = (w.cols + 63) / 64 * 64;
  out.groups = w.cols / w.group;
  const int64_t blocks = out.padded_cols / 32, chunks = out.padded_cols / 64;
  out.q.resize_discarding(static_cast<size_t>(rows * out.padded_cols));
  out.scale.resize_discarding(static_cast<size_t>(rows * blocks));
  out.lane_scale.resize_discarding(static_cast<size_t>(rows * chunks * 16));
  out.group_offset.resize_discarding(static_cast<size_t>(rows * out.groups));
  const float offset = w.format == WeightFormat::Int4 ? 8.f : 128.f;
  // Dot lane l of a chunk sums bytes 4l..4l+3: Int8's first 8 lanes are the first block; Int4's
  // lanes alternate between the blocks every 4 (see the lane order above).
  const bool int4 = w.format == WeightFormat::Int4;
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ldx;
    int8_t* q = out.q.data() + r * out.padded_cols;
    float* scale = out.scale.data() + r * blocks;
    float* group_offset = out.group_offset.data() + r * out.groups;
    std::fill(group_offset, group_offset + out.groups, 0.f);
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t c0 = b * 32, c1 = std::min(w.cols, c0 + 32);
      float amax = 0.f;
      for (int64_t c = c0; c < c1; ++c) amax = std::max(amax, std::abs(xr[c]));
      const float s = amax / 127.f, inverse = s != 0.f ? 1.f / s : 0.f;
      scale[b] = s;
      int32_t sum = 0;
      for (int64_t c = c0; c < c0 + 32; ++c) {
        const int8_t v = c < c1 ? static_cast<int8_t>(std::lround(xr[c] * inverse)) : 0;
        q[out.position(w.format, c)] = v;
        sum += v;
      }
      if (c0 < w.cols) group_offset[c0 / w.group] += offset * s * static_cast<float>(sum);
    }
    float* lanes = out.lane_scale.data() + r * chunks * 16;
    for (int64_t k = 0; k < chunks; ++k)
      for (int64_t l = 0; l < 16; ++l) lanes[k * 16 + l] = scale[2 * k + (int4 ? l / 4 % 2 : l / 8)];
  }
}

}  // namespace kiln::kernels
