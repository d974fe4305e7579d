#include "kernels/cpu/grid_sample_ref.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "kernels/cpu/cubic_weights.h"

namespace kiln::kernels {
namespace {

// PyTorch's bicubic grid_sample kernel parameter.
constexpr double kCubicA = -0.75;

// The input coordinate, in pixels, of a normalized grid coordinate along an axis of `size` pixels.
template <class T>
T unnormalize(T coord, int64_t size, bool align_corners) {
  return align_corners ? (coord + 1) / 2 * static_cast<T>(size - 1) : ((coord + 1) * static_cast<T>(size) - 1) / 2;
}

// Folds `coord` into [low, high] by mirroring it at the bounds as often as it takes.
template <class T>
T reflect(T coord, T low, T high) {
  const T span = high - low;
  if (span <= 0) return low;
  const T distance = std::abs(coord - low);
  const T extra = std::fmod(distance, span);
  const bool even_flips = std::fmod(std::floor(distance / span), T(2)) == 0;
  return even_flips ? low + extra : high - extra;
}

// Border and reflection padding move a coordinate into [0, size - 1]; zeros padding leaves it, so
// that taps outside the image are dropped (read as 0).
template <class T>
T pad_coordinate(T coord, int64_t size, const GridSampleOptions& options) {
  const T last = static_cast<T>(size - 1);
  switch (options.padding) {
    case GridSamplePadding::Zeros:
      return coord;
    case GridSamplePadding::Border:
      return std::clamp(coord, T(0), last);
    case GridSamplePadding::Reflection:
      // Mirrors at the corner pixels' centres with align_corners, else at the image edges half a
      // pixel beyond them.
      coord = options.align_corners ? reflect(coord, T(0), last) : reflect(coord, T(-0.5), last + T(0.5));
      return std::clamp(coord, T(0), last);
  }
  return coord;
}

// The input pixels one output point reads and their weights; pixels outside the image are left out.
struct Taps {
  std::array<int64_t, 16> offset{};
  std::array<double, 16> weight{};
  int count = 0;

  // Adds pixel (ix, iy), given as whole-numbered coordinates, when it lies inside the image.
  template <class T>
  void add(T ix, T iy, double w, int64_t in_h, int64_t in_w) {
    if (!(ix >= 0 && ix <= static_cast<T>(in_w - 1) && iy >= 0 && iy <= static_cast<T>(in_h - 1))) return;
    offset[static_cast<size_t>(count)] = static_cast<int64_t>(iy) * in_w + static_cast<int64_t>(ix);
    weight[static_cast<size_t>(count)] = w;
    ++count;
  }
};

template <class T>
Taps taps_at(T gx, T gy, int64_t in_h, int64_t in_w, const GridSampleOptions& options) {
  Taps taps;
  if (!std::isfinite(gx) || !std::isfinite(gy)) return taps;
  T ix = unnormalize(gx, in_w, options.align_corners), iy = unnormalize(gy, in_h, options.align_corners);
  if (options.mode == GridSampleMode::Bicubic) {
    // The point itself is not padded: each tap is, so that the kernel keeps its shape at the edges.
    const T x0 = std::floor(ix), y0 = std::floor(iy);
    const auto wx = cubic_weights(static_cast<double>(ix - x0), kCubicA);
    const auto wy = cubic_weights(static_cast<double>(iy - y0), kCubicA);
    for (size_t j = 0; j < 4; ++j) {
      const T ty = std::nearbyint(pad_coordinate(y0 - 1 + static_cast<T>(j), in_h, options));
      for (size_t i = 0; i < 4; ++i) {
        const T tx = std::nearbyint(pad_coordinate(x0 - 1 + static_cast<T>(i), in_w, options));
        taps.add(tx, ty, wx[i] * wy[j], in_h, in_w);
      }
    }
    return taps;
  }
  ix = pad_coordinate(ix, in_w, options);
  iy = pad_coordinate(iy, in_h, options);
  if (options.mode == GridSampleMode::Nearest) {
    taps.add(std::nearbyint(ix), std::nearbyint(iy), 1.0, in_h, in_w);
    return taps;
  }
  const T x0 = std::floor(ix), y0 = std::floor(iy);
  const auto tx = static_cast<double>(ix - x0), ty = static_cast<double>(iy - y0);
  taps.add(x0, y0, (1 - tx) * (1 - ty), in_h, in_w);
  taps.add(x0 + 1, y0, tx * (1 - ty), in_h, in_w);
  taps.add(x0, y0 + 1, (1 - tx) * ty, in_h, in_w);
  taps.add(x0 + 1, y0 + 1, tx * ty, in_h, in_w);
  return taps;
}

}  // namespace

template <class T>
void compute_grid_sample(const T* x, const T* grid, T* y, int64_t batch, int64_t channels, int64_t in_h, int64_t in_w,
                         int64_t out_h, int64_t out_w, const GridSampleOptions& options, ThreadPool& pool) {
  const int64_t in_plane = in_h * in_w, out_plane = out_h * out_w;
  // The unit of work is an output row: its points' taps are found once and applied to every channel.
  const int64_t rows_per_task = std::max<int64_t>(1, 4096 / std::max<int64_t>(out_w * channels, 1));
  pool.parallel_for(batch * out_h, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t n = row / out_h, oh = row % out_h;
      for (int64_t ow = 0; ow < out_w; ++ow) {
        const T* point = grid + (row * out_w + ow) * 2;
        const Taps taps = taps_at(point[0], point[1], in_h, in_w, options);
        for (int64_t c = 0; c < channels; ++c) {
          const T* plane = x + (n * channels + c) * in_plane;
          double sum = 0;
          for (size_t t = 0; t < static_cast<size_t>(taps.count); ++t)
            sum += taps.weight[t] * static_cast<double>(plane[taps.offset[t]]);
          y[(n * channels + c) * out_plane + oh * out_w + ow] = static_cast<T>(sum);
        }
      }
    }
  }, rows_per_task);
}

template void compute_grid_sample<float>(const float*, const float*, float*, int64_t, int64_t, int64_t, int64_t,
                                         int64_t, int64_t, const GridSampleOptions&, ThreadPool&);
template void compute_grid_sample<double>(const double*, const double*, double*, int64_t, int64_t, int64_t, int64_t,
                                          int64_t, int64_t, const GridSampleOptions&, ThreadPool&);

}  // namespace kiln::kernels
