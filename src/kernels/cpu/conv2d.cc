#include "kernels/cpu/conv2d.h"

#include <cstring>
#include <string>

namespace kiln::kernels {
namespace {

// Spatial dims as (height, width); a 1-D convolution is a 2-D one of height 1.
struct Plane {
  int64_t in_h, in_w, out_h, out_w, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
  bool pads_zero;
};

Plane plane_of(const WindowGeometry& g) {
  const bool two_d = g.rank() == 2;
  const size_t w = two_d ? 1 : 0;
  bool pads_zero = true;
  for (size_t d = 0; d < g.rank(); ++d) pads_zero = pads_zero && g.pads_begin[d] == 0 && g.pads_end[d] == 0;
  return {two_d ? g.input[0] : 1,           g.input[w],      two_d ? g.output[0] : 1,    g.output[w],
          two_d ? g.kernel[0] : 1,          g.kernel[w],     two_d ? g.strides[0] : 1,   g.strides[w],
          two_d ? g.dilations[0] : 1,       g.dilations[w],  two_d ? g.pads_begin[0] : 0, g.pads_begin[w],
          pads_zero};
}

}  // namespace

PreparedConv2d::PreparedConv2d(CpuLevel level, const float* w, int64_t out_channels, int64_t group_channels,
                               int64_t kernel_h, int64_t kernel_w, int64_t groups, WeightStore& store)
    : level_(level),
      out_channels_(out_channels),
      group_channels_(group_channels),
      kernel_h_(kernel_h),
      kernel_w_(kernel_w),
      groups_(groups),
      depthwise_(depthwise_plane_kernel(level)) {
  const int64_t taps = kernel_h * kernel_w, K = group_channels * taps, M = out_channels / groups;
  if (group_channels == 1 && M == 1) {
    const size_t bytes = static_cast<size_t>(out_channels * taps) * sizeof(float);
    depthwise_filters_ = store.get("depthwise", bytes, [&](std::byte* out) { std::memcpy(out, w, bytes); });
    return;
  }
  for (int64_t g = 0; g < groups; ++g)
    packed_.push_back(PackedMatrix::pack_a(level, M, K, MatrixView{w + g * M * K, K}, store, "group" + std::to_string(g)));
}

PreparedConv2d::Algorithm PreparedConv2d::algorithm_for(const ConvShape& shape) const {
  if (!depthwise_filters_.empty()) return Algorithm::Depthwise;
  const Plane p = plane_of(shape.geometry);
  const bool pointwise = p.kernel_h == 1 && p.kernel_w == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pads_zero;
  return pointwise ? Algorithm::Pointwise : Algorithm::Im2col;
}

void PreparedConv2d::run(const float* x, const ConvShape& shape, float* y, const ConvEpilogue& epilogue,
                         ThreadPool& pool) const {
  const Plane p = plane_of(shape.geometry);
  const int64_t in_plane = p.in_h * p.in_w, out_plane = p.out_h * p.out_w;
  const int64_t C = shape.in_channels, M = out_channels_ / groups_, K = group_channels_ * kernel_h_ * kernel_w_;
  const Algorithm algorithm = algorithm_for(shape);

  if (algorithm == Algorithm::Depthwise) {
    const DepthwiseGeometry g{p.in_h,     p.in_w,     p.out_h,      p.out_w,      p.kernel_h,  p.kernel_w,
                              p.stride_h, p.stride_w, p.dilation_h, p.dilation_w, p.pad_top, p.pad_left};
    const int64_t planes = shape.batch * out_channels_;
    pool.parallel_for(planes, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const int64_t channel = i % out_channels_;
        depthwise_(x + i * in_plane, depthwise_filters_.as<float>() + channel * kernel_h_ * kernel_w_,
                   epilogue.bias ? epilogue.bias[channel] : 0.f, epilogue.residual ? epilogue.residual + i * out_plane : nullptr,
                   y + i * out_plane, g, epilogue.activation);
      }
    });
    return;
  }

  for (int64_t n = 0; n < shape.batch; ++n) {
    for (int64_t g = 0; g < groups_; ++g) {
      const float* image = x + (n * C + g * group_channels_) * in_plane;
      const int64_t first_out = n * out_channels_ + g * M;
      GemmB b = MatrixView{image, in_plane};
      if (algorithm == Algorithm::Im2col)
        b = Im2colView{image,      group_channels_, p.in_h,       p.in_w,       p.kernel_h, p.kernel_w, p.stride_h,
                       p.stride_w, p.dilation_h,    p.dilation_w, p.pad_top,    p.pad_left, p.out_h,    p.out_w};
      GemmEpilogue gemm_epilogue;
      gemm_epilogue.row_bias = epilogue.bias ? epilogue.bias + g * M : nullptr;
      gemm_epilogue.residual = epilogue.residual ? epilogue.residual + first_out * out_plane : nullptr;
      gemm_epilogue.residual_ld = out_plane;
      gemm_epilogue.activation = epilogue.activation;
      sgemm(level_, M, out_plane, K, &packed_[static_cast<size_t>(g)], b, y + first_out * out_plane, out_plane,
            gemm_epilogue, &pool);
    }
  }
}

}  // namespace kiln::kernels
