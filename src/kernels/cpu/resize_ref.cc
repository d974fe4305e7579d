#include "kernels/cpu/resize_ref.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <type_traits>

#include "kernels/cpu/cubic_weights.h"

namespace kiln::kernels {
namespace {

// Where output coordinate x of an axis samples the input, in input coordinates.
double original_coordinate(int64_t x, const ResizeAxis& axis, CoordinateTransform transform) {
  const double in = static_cast<double>(axis.in_size), resized = axis.resized_length;
  const double xd = static_cast<double>(x), scale = axis.scale;
  switch (transform) {
    case CoordinateTransform::HalfPixel:
      return (xd + 0.5) / scale - 0.5;
    case CoordinateTransform::HalfPixelSymmetric: {
      // Centres the sampled window when the output size had to be rounded.
      const double adjustment = static_cast<double>(axis.out_size) / resized;
      return in / 2 * (1 - adjustment) + (xd + 0.5) / scale - 0.5;
    }
    case CoordinateTransform::PytorchHalfPixel:
      return resized > 1 ? (xd + 0.5) / scale - 0.5 : 0;
    case CoordinateTransform::AlignCorners:
      return resized > 1 ? xd * (in - 1) / (resized - 1) : 0;
    case CoordinateTransform::Asymmetric:
      return xd / scale;
    case CoordinateTransform::TfHalfPixelForNn:
      return (xd + 0.5) / scale;
    case CoordinateTransform::TfCropAndResize:
      return resized > 1 ? axis.roi_start * (in - 1) + xd * (axis.roi_end - axis.roi_start) * (in - 1) / (resized - 1)
                         : 0.5 * (axis.roi_start + axis.roi_end) * (in - 1);
  }
  return 0;
}

double nearest_index(double x, NearestRounding rounding, bool downsampling) {
  switch (rounding) {
    case NearestRounding::RoundPreferFloor: return std::ceil(x - 0.5);
    case NearestRounding::RoundPreferCeil: return std::floor(x + 0.5);
    case NearestRounding::Floor: return std::floor(x);
    case NearestRounding::Ceil: return std::ceil(x);
    case NearestRounding::Legacy: return downsampling ? std::ceil(x) : std::floor(x);
  }
  return 0;
}

// The input taps of every output coordinate of one axis: `per_output` (index, weight) pairs each,
// indices clamped into the input (edge padding), weights summing to 1.
struct AxisTaps {
  int64_t out_size = 0;
  int64_t per_output = 1;
  std::vector<int64_t> index;
  std::vector<double> weight;
  std::vector<char> outside;  // TfCropAndResize: the coordinate lies outside the input

  // True when output j is exactly input j for every j, so resampling this axis would copy it.
  bool is_identity(int64_t in_size) const {
    if (out_size != in_size) return false;
    for (int64_t j = 0; j < out_size; ++j) {
      if (outside[static_cast<size_t>(j)]) return false;
      for (int64_t t = 0; t < per_output; ++t) {
        const auto k = static_cast<size_t>(j * per_output + t);
        if (weight[k] != 0 && (index[k] != j || weight[k] != 1)) return false;
      }
    }
    return true;
  }
};

AxisTaps axis_taps(const ResizeAxis& axis, const ResizeOptions& options) {
  AxisTaps taps;
  taps.out_size = axis.out_size;
  taps.per_output = options.mode == ResizeMode::Nearest ? 1 : options.mode == ResizeMode::Linear ? 2 : 4;
  const auto n = static_cast<size_t>(axis.out_size * taps.per_output);
  taps.index.resize(n);
  taps.weight.resize(n);
  taps.outside.resize(static_cast<size_t>(axis.out_size));
  const int64_t last = axis.in_size - 1;
  const auto clamp_index = [last](double i) { return static_cast<int64_t>(std::clamp(i, 0.0, static_cast<double>(last))); };
  for (int64_t j = 0; j < axis.out_size; ++j) {
    const double x = original_coordinate(j, axis, options.transform);
    taps.outside[static_cast<size_t>(j)] =
        options.transform == CoordinateTransform::TfCropAndResize && (x < 0 || x > static_cast<double>(last));
    int64_t* index = &taps.index[static_cast<size_t>(j * taps.per_output)];
    double* weight = &taps.weight[static_cast<size_t>(j * taps.per_output)];
    if (options.mode == ResizeMode::Nearest) {
      index[0] = clamp_index(nearest_index(x, options.rounding, axis.scale < 1));
      weight[0] = 1;
      continue;
    }
    const double base = std::floor(x), t = x - base;
    if (options.mode == ResizeMode::Linear) {
      index[0] = clamp_index(base);
      index[1] = clamp_index(base + 1);
      weight[0] = 1 - t;
      weight[1] = t;
      continue;
    }
    const std::array<double, 4> w = cubic_weights(t, options.cubic_coeff_a);
    double total = 0;
    for (int k = 0; k < 4; ++k) {
      const double i = base - 1 + k;
      const bool inside = i >= 0 && i <= static_cast<double>(last);
      index[k] = clamp_index(i);
      weight[k] = options.exclude_outside && !inside ? 0 : w[static_cast<size_t>(k)];
      total += weight[k];
    }
    if (options.exclude_outside && total != 0)
      for (int k = 0; k < 4; ++k) weight[k] /= total;
  }
  return taps;
}

// Writes output row j (`inner` contiguous elements) of one slab from the slab's input rows `src`.
template <class T>
void resample_row(const T* src, int64_t inner, const AxisTaps& taps, int64_t j, T extrapolation, T* dst) {
  if (taps.outside[static_cast<size_t>(j)]) {
    std::fill(dst, dst + inner, extrapolation);
    return;
  }
  const int64_t* index = &taps.index[static_cast<size_t>(j * taps.per_output)];
  const double* weight = &taps.weight[static_cast<size_t>(j * taps.per_output)];
  if (taps.per_output == 1) {
    if (inner == 1) *dst = src[index[0]];  // the last axis: skip a call per element
    else std::copy(src + index[0] * inner, src + (index[0] + 1) * inner, dst);
    return;
  }
  if constexpr (std::is_floating_point_v<T>) {
    const T* row = src + index[0] * inner;
    const auto w0 = static_cast<T>(weight[0]);
    for (int64_t i = 0; i < inner; ++i) dst[i] = w0 * row[i];
    for (int64_t t = 1; t < taps.per_output; ++t) {
      row = src + index[t] * inner;
      const auto w = static_cast<T>(weight[t]);
      for (int64_t i = 0; i < inner; ++i) dst[i] += w * row[i];
    }
  }
}

// Resamples the middle axis of `in`, viewed as [outer, in_size, inner], into [outer, out_size, inner].
// Rows along `inner` are contiguous, so each tap is a vectorizable row update. Threads split the
// outer * out_size output rows, so that a single slab (outer = 1) still spreads.
template <class T>
void resample_axis(const T* in, int64_t outer, int64_t in_size, int64_t inner, const AxisTaps& taps,
                   T extrapolation, T* out, ThreadPool& pool) {
  const int64_t out_size = taps.out_size;
  const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(1, inner * taps.per_output));
  pool.parallel_for(outer * out_size, [&](int64_t begin, int64_t end) {
    // The chunk's rows, slab by slab: rows [j_begin, j_end) of slab o.
    for (int64_t r = begin; r < end;) {
      const int64_t o = r / out_size, j_begin = r % out_size, j_end = std::min(out_size, j_begin + (end - r));
      const T* src = in + o * in_size * inner;
      T* dst = out + o * out_size * inner;
      for (int64_t j = j_begin; j < j_end; ++j) resample_row(src, inner, taps, j, extrapolation, dst + j * inner);
      r += j_end - j_begin;
    }
  }, grain);
}

// ONNX Runtime's bilinear arithmetic, which a model quantized dynamically after a Resize depends on
// to the last bit (one ulp of difference moves values across quantization steps, and 50 layers
// compound the flips): coordinates, clamping and both weights per axis in float, and each output
// dx2 * dy2 * X11 + dx1 * dy2 * X21 + dx2 * dy1 * X12 + dx1 * dy1 * X22, left to right, without
// fused multiply-adds. Applies to float data whose last two axes alone are resized linearly under
// a transform that does not read the unrounded resized length (or where that length is the size).
struct BilinearAxis {
  std::vector<int64_t> low, high;
  std::vector<float> low_weight, high_weight;  // ORT's dx2 and dx1: the weights of low and high
};

bool bilinear_applies(const std::vector<ResizeAxis>& axes, const ResizeOptions& options) {
  if (options.mode != ResizeMode::Linear || axes.size() < 2) return false;
  switch (options.transform) {
    case CoordinateTransform::HalfPixel:
    case CoordinateTransform::Asymmetric:
      break;
    case CoordinateTransform::PytorchHalfPixel:
    case CoordinateTransform::AlignCorners:
      for (size_t a = axes.size() - 2; a < axes.size(); ++a)
        if (axes[a].resized_length != static_cast<double>(axes[a].out_size)) return false;
      break;
    default:
      return false;
  }
  for (size_t a = 0; a + 2 < axes.size(); ++a)
    if (axes[a].in_size != axes[a].out_size || axes[a].scale != 1) return false;
  return true;
}

BilinearAxis bilinear_axis(const ResizeAxis& axis, CoordinateTransform transform) {
  BilinearAxis b;
  const auto n = static_cast<size_t>(axis.out_size);
  b.low.resize(n), b.high.resize(n), b.low_weight.resize(n), b.high_weight.resize(n);
  const float scale = static_cast<float>(axis.scale), resized = static_cast<float>(axis.out_size);
  const float original = static_cast<float>(axis.in_size), last = static_cast<float>(axis.in_size - 1);
  for (size_t j = 0; j < n; ++j) {
    const float x = static_cast<float>(j);
    float in = x;
    if (scale != 1) {
      switch (transform) {
        case CoordinateTransform::Asymmetric: in = x / scale; break;
        case CoordinateTransform::PytorchHalfPixel: in = resized > 1 ? (x + 0.5f) / scale - 0.5f : 0.f; break;
        case CoordinateTransform::AlignCorners: in = resized == 1 ? 0.f : x * (original - 1) / (resized - 1); break;
        default: in = (x + 0.5f) / scale - 0.5f; break;
      }
    }
    in = std::max(0.f, std::min(in, last));
    const int64_t low = std::min(static_cast<int64_t>(in), axis.in_size - 1), high = std::min(low + 1, axis.in_size - 1);
    b.low[j] = low, b.high[j] = high;
    b.high_weight[j] = low == high ? 0.5f : std::fabs(in - static_cast<float>(low));
    b.low_weight[j] = low == high ? 0.5f : std::fabs(in - static_cast<float>(high));
  }
  return b;
}

__attribute__((optimize("fp-contract=off"))) void bilinear(const float* in, int64_t planes, const ResizeAxis& ay,
                                                           const ResizeAxis& ax, CoordinateTransform transform, float* out,
                                                           ThreadPool& pool) {
  const BilinearAxis by = bilinear_axis(ay, transform), bx = bilinear_axis(ax, transform);
  const int64_t in_w = ax.in_size, in_plane = ay.in_size * ax.in_size, out_w = ax.out_size, out_h = ay.out_size;
  pool.parallel_for(planes * out_h, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t plane = r / out_h;
      const auto y = static_cast<size_t>(r % out_h);
      const float* row1 = in + plane * in_plane + by.low[y] * in_w;
      const float* row2 = in + plane * in_plane + by.high[y] * in_w;
      const float dy2 = by.low_weight[y], dy1 = by.high_weight[y];
      float* dst = out + r * out_w;
      for (size_t x = 0; x < static_cast<size_t>(out_w); ++x) {
        const float dx2 = bx.low_weight[x], dx1 = bx.high_weight[x];
        const int64_t x1 = bx.low[x], x2 = bx.high[x];
        dst[x] = dx2 * dy2 * row1[x1] + dx1 * dy2 * row1[x2] + dx2 * dy1 * row2[x1] + dx1 * dy1 * row2[x2];
      }
    }
  }, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, out_w)));
}

}  // namespace

template <class T>
void compute_resize(const T* in, const Shape& in_shape, const std::vector<ResizeAxis>& axes,
                    const ResizeOptions& options, T* out, ThreadPool& pool) {
  if (!std::is_floating_point_v<T> && options.mode != ResizeMode::Nearest)
    throw Error(ErrorCode::NotImplemented, "linear and cubic resize support float32 and float64 only");
  if constexpr (std::is_same_v<T, float>) {
    if (bilinear_applies(axes, options)) {
      const size_t rank = axes.size();
      const int64_t planes = shape_numel(Shape(in_shape.begin(), in_shape.end() - 2));
      bilinear(in, planes, axes[rank - 2], axes[rank - 1], options.transform, out, pool);
      return;
    }
  }
  Shape shape = in_shape;
  std::vector<std::pair<size_t, AxisTaps>> passes;
  for (size_t a = 0; a < shape.size(); ++a) {
    AxisTaps taps = axis_taps(axes[a], options);
    if (!taps.is_identity(axes[a].in_size)) passes.emplace_back(a, std::move(taps));
  }
  if (passes.empty()) {
    std::copy(in, in + shape_numel(in_shape), out);
    return;
  }
  // One pass per resampled axis, each reading the previous pass's result; the last writes `out`.
  const auto extrapolation = static_cast<T>(options.extrapolation_value);
  std::vector<T> previous, next;
  const T* src = in;
  for (size_t p = 0; p < passes.size(); ++p) {
    const auto& [axis, taps] = passes[p];
    const int64_t outer = shape_numel(Shape(shape.begin(), shape.begin() + static_cast<std::ptrdiff_t>(axis)));
    const int64_t inner = shape_numel(Shape(shape.begin() + static_cast<std::ptrdiff_t>(axis) + 1, shape.end()));
    const int64_t in_size = shape[axis];
    shape[axis] = taps.out_size;
    const bool last = p + 1 == passes.size();
    if (!last) next.resize(static_cast<size_t>(shape_numel(shape)));
    T* dst = last ? out : next.data();
    resample_axis(src, outer, in_size, inner, taps, extrapolation, dst, pool);
    if (!last) {
      previous.swap(next);
      src = previous.data();
    }
  }
}

#define KILN_INSTANTIATE_RESIZE(T)                                                                           \
  template void compute_resize<T>(const T*, const Shape&, const std::vector<ResizeAxis>&, const ResizeOptions&, T*, \
                                  ThreadPool&);
KILN_INSTANTIATE_RESIZE(float)
KILN_INSTANTIATE_RESIZE(double)
KILN_INSTANTIATE_RESIZE(int8_t)
KILN_INSTANTIATE_RESIZE(uint8_t)
KILN_INSTANTIATE_RESIZE(int32_t)
KILN_INSTANTIATE_RESIZE(int64_t)
#undef KILN_INSTANTIATE_RESIZE

}  // namespace kiln::kernels
