#include "kernels/cpu/max_pool_nhwc.h"

#include <algorithm>
#include <limits>

namespace kiln::kernels {
namespace {

// out = max(out, pixel) over a run of channels; restrict lets the compiler vectorize it without
// run-time overlap checks.
template <class T>
void max_into(T* __restrict out, const T* __restrict pixel, int64_t channels) {
  for (int64_t c = 0; c < channels; ++c) out[c] = std::max(out[c], pixel[c]);
}

}  // namespace

template <class T>
void max_pool_nhwc(const T* x, int64_t batch, int64_t channels, const WindowGeometry& g, T* y, ThreadPool& pool) {
  const int64_t H = g.input[0], W = g.input[1], OH = g.output[0], OW = g.output[1];
  pool.parallel_for(batch * OH, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t n = row / OH, oy = row % OH;
      const T* image = x + n * H * W * channels;
      for (int64_t ox = 0; ox < OW; ++ox) {
        T* out = y + ((n * OH + oy) * OW + ox) * channels;
        std::fill(out, out + channels, std::numeric_limits<T>::lowest());
        for (int64_t ky = 0; ky < g.kernel[0]; ++ky) {
          const int64_t iy = oy * g.strides[0] - g.pads_begin[0] + ky * g.dilations[0];
          if (iy < 0 || iy >= H) continue;
          for (int64_t kx = 0; kx < g.kernel[1]; ++kx) {
            const int64_t ix = ox * g.strides[1] - g.pads_begin[1] + kx * g.dilations[1];
            if (ix < 0 || ix >= W) continue;
            max_into(out, image + (iy * W + ix) * channels, channels);
          }
        }
      }
    }
  }, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, OW * channels)));
}

template void max_pool_nhwc(const uint8_t*, int64_t, int64_t, const WindowGeometry&, uint8_t*, ThreadPool&);
template void max_pool_nhwc(const int8_t*, int64_t, int64_t, const WindowGeometry&, int8_t*, ThreadPool&);
template void max_pool_nhwc(const float*, int64_t, int64_t, const WindowGeometry&, float*, ThreadPool&);

}  // namespace kiln::kernels
