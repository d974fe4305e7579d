#include "kernels/cpu/qconv.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "kernels/cpu/im2col_nhwc.h"
#include "kernels/cpu/transpose_bytes.h"

namespace kiln::kernels {
namespace {

constexpr int64_t kTile = 32;

// transpose_bytes over all cols columns, in blocks of columns across the pool.
void transpose_bytes_parallel(const uint8_t* src, int64_t rows, int64_t cols, int64_t src_ld, uint8_t* dst,
                              int64_t dst_ld, uint8_t flip, ThreadPool& pool) {
  constexpr int64_t kBlockColumns = 16;
  pool.parallel_for(
      (cols + kBlockColumns - 1) / kBlockColumns,
      [&](int64_t begin, int64_t end) {
        transpose_bytes(src, rows, src_ld, dst, dst_ld, flip, begin * kBlockColumns, std::min(end * kBlockColumns, cols));
      },
      std::max<int64_t>(1, 4096 / std::max<int64_t>(rows, 1)));
}

// int32 sums (ConvInteger) from NHWC rows to NCHW, in tiles.
void to_channels_first(const int32_t* src, int64_t positions, int64_t channels, int32_t* dst, ThreadPool&) {
  for (int64_t p0 = 0; p0 < positions; p0 += kTile)
    for (int64_t c0 = 0; c0 < channels; c0 += kTile)
      for (int64_t p = p0; p < std::min(p0 + kTile, positions); ++p)
        for (int64_t c = c0; c < std::min(c0 + kTile, channels); ++c) dst[c * positions + p] = src[p * channels + c];
}

template <class T>
void to_channels_first(const T* src, int64_t positions, int64_t channels, T* dst, ThreadPool& pool) {
  transpose_bytes_parallel(reinterpret_cast<const uint8_t*>(src), positions, channels, channels,
                           reinterpret_cast<uint8_t*>(dst), positions, 0, pool);
}

// Per-thread scratch, grown to the largest image seen, then reused.
struct Scratch {
  AlignedBuffer<uint8_t> image, rows;
  AlignedBuffer<int32_t> output;
  size_t image_size = 0, rows_size = 0, output_size = 0;

  template <class T>
  static T* sized(AlignedBuffer<T>& buffer, size_t& size, size_t count) {
    if (count > size) buffer.resize_discarding(size = count);
    return buffer.data();
  }
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

}  // namespace

PreparedQConv::PreparedQConv(CpuLevel level, int64_t out_channels, int64_t group_channels, int64_t groups,
                             int64_t kernel_h, int64_t kernel_w, const void* w, bool w_signed,
                             const std::vector<int32_t>& w_zero_points, WeightStore& store)
    : level_(level), out_channels_(out_channels), group_channels_(group_channels), groups_(groups), kernel_h_(kernel_h),
      kernel_w_(kernel_w) {
  const int64_t K = kernel_h * kernel_w * group_channels, N = out_channels / groups;
  const bool per_channel = w_zero_points.size() > 1;
  const auto* codes = static_cast<const uint8_t*>(w);
  const auto code = [&](int64_t i) { return w_signed ? int32_t{static_cast<int8_t>(codes[i])} : int32_t{codes[i]}; };
  if (groups > 1 && group_channels == 1 && out_channels == groups) {
    const int64_t taps = kernel_h * kernel_w;
    depthwise_weights_ = store.get("depthwise", static_cast<size_t>(taps * out_channels) * sizeof(int32_t), [&](std::byte* out) {
      auto* values = reinterpret_cast<int32_t*>(out);
      for (int64_t c = 0; c < out_channels; ++c)
        for (int64_t t = 0; t < taps; ++t)
          values[t * out_channels + c] = code(c * taps + t) - w_zero_points[per_channel ? static_cast<size_t>(c) : 0];
    });
    return;
  }
  // The codes reordered to [M, kh, kw, C / groups], the (ky, kx, c) order of im2col_nhwc's rows.
  std::vector<uint8_t> reordered(static_cast<size_t>(out_channels * K));
  for (int64_t m = 0; m < out_channels; ++m)
    for (int64_t c = 0; c < group_channels; ++c)
      for (int64_t t = 0; t < kernel_h * kernel_w; ++t)
        reordered[static_cast<size_t>(m * K + t * group_channels + c)] = codes[(m * group_channels + c) * kernel_h * kernel_w + t];
  for (int64_t g = 0; g < groups; ++g) {
    QuantWeightsView view;
    view.data = reordered.data() + g * N * K;
    view.is_signed = w_signed;
    view.ld = K;
    view.transposed = true;
    view.zero_points = w_zero_points.data() + (per_channel ? g * N : 0);
    view.zero_point_step = per_channel ? 1 : 0;
    weights_.push_back(PackedQuantWeights::pack(K, N, view, store, "group" + std::to_string(g)));
  }
}

void PreparedQConv::run(const ConvShape& shape, const void* x, bool x_signed, int32_t x_zero_point, const Output& output,
                        bool channels_last, ThreadPool& pool) const {
  const WindowGeometry& geo = shape.geometry;
  const int64_t C = shape.in_channels, M = out_channels_, N = M / groups_;
  const int64_t in_positions = geo.input_size(), positions = geo.output_size();
  const int64_t K = kernel_h_ * kernel_w_ * group_channels_;
  const bool pointwise = kernel_h_ == 1 && kernel_w_ == 1 && geo.strides[0] == 1 && geo.strides[1] == 1 &&
                         geo.pads_begin[0] == 0 && geo.pads_begin[1] == 0 && groups_ == 1;
  const int32_t a_zero_point = x_signed ? x_zero_point + 128 : x_zero_point;
  Scratch& s = scratch();
  // A uint8 NHWC input is read where it is; anything else is transposed or shifted into scratch.
  const bool in_place = channels_last && !x_signed;
  uint8_t* image = in_place ? nullptr : Scratch::sized(s.image, s.image_size, static_cast<size_t>(in_positions * C));
  uint8_t* rows = pointwise || depthwise() ? nullptr : Scratch::sized(s.rows, s.rows_size, static_cast<size_t>(positions * K));
  // NHWC output rows, as wide as the output element: 4 bytes covers int32, 1 byte the others.
  int32_t* out_rows = channels_last ? nullptr : Scratch::sized(s.output, s.output_size, static_cast<size_t>(positions * M));

  for (int64_t n = 0; n < shape.batch; ++n) {
    const uint8_t* x_image = static_cast<const uint8_t*>(x) + n * C * in_positions;
    if (in_place) {
      image = const_cast<uint8_t*>(x_image);
    } else if (channels_last) {
      pool.parallel_for(in_positions * C, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) image[i] = x_image[i] ^ 0x80;
      }, 16384);
    } else {
      transpose_bytes_parallel(x_image, C, in_positions, in_positions, image, C, x_signed ? 0x80 : 0, pool);
    }
    if (depthwise()) {
      QDepthwiseArgs d;
      d.image = image;
      d.height = geo.input[0], d.width = geo.input[1], d.channels = C;
      d.x_zero_point = a_zero_point;
      d.weights = depthwise_weights_.as<int32_t>();
      d.kernel_h = kernel_h_, d.kernel_w = kernel_w_;
      d.stride_h = geo.strides[0], d.stride_w = geo.strides[1];
      d.dilation_h = geo.dilations[0], d.dilation_w = geo.dilations[1];
      d.pad_top = geo.pads_begin[0], d.pad_left = geo.pads_begin[1];
      d.out_h = geo.output[0], d.out_w = geo.output[1];
      d.requantize = output.requantize;
      std::visit(
          [&](auto* y) {
            using T = std::remove_pointer_t<decltype(y)>;
            d.y = channels_last ? y + n * positions * M : reinterpret_cast<T*>(out_rows);
          },
          output.y);
      qconv_depthwise(level_, d, pool);
    }
    for (int64_t g = 0; g < groups_ && !depthwise(); ++g) {
      const uint8_t* a = image;
      int64_t lda = C;
      if (!pointwise) {
        Im2colNhwcView v;
        v.image = image + g * group_channels_;
        v.height = geo.input[0], v.width = geo.input[1], v.channels = group_channels_, v.pixel_stride = C;
        v.kernel_h = kernel_h_, v.kernel_w = kernel_w_;
        v.stride_h = geo.strides[0], v.stride_w = geo.strides[1];
        v.dilation_h = geo.dilations[0], v.dilation_w = geo.dilations[1];
        v.pad_top = geo.pads_begin[0], v.pad_left = geo.pads_begin[1];
        v.out_h = geo.output[0], v.out_w = geo.output[1];
        pool.parallel_for(
            positions,
            [&](int64_t begin, int64_t end) {
              im2col_nhwc_u8(v, begin, end - begin, static_cast<uint8_t>(a_zero_point), rows + begin * K, K);
            },
            std::max<int64_t>(1, 16384 / K));
        a = rows, lda = K;
      }
      QGemmEpilogue epilogue;
      epilogue.ldc = M;
      epilogue.requantize = output.requantize;
      if (epilogue.requantize.bias) epilogue.requantize.bias += g * N;
      if (epilogue.requantize.multiplier_step) epilogue.requantize.multipliers += g * N;
      std::visit(
          [&](auto* y) {
            using T = std::remove_pointer_t<decltype(y)>;
            T* rows_out = channels_last ? y + n * positions * M : reinterpret_cast<T*>(out_rows);
            epilogue.c = rows_out + g * N;
          },
          output.y);
      qgemm(level_, positions, a, lda, a_zero_point, weights_[static_cast<size_t>(g)], epilogue, &pool);
    }
    if (channels_last) continue;
    std::visit(
        [&](auto* y) {
          using T = std::remove_pointer_t<decltype(y)>;
          to_channels_first(reinterpret_cast<const T*>(out_rows), positions, M, y + n * M * positions, pool);
        },
        output.y);
  }
}

}  // namespace kiln::kernels
