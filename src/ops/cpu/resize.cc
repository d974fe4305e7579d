// Resize (opset 10 on) and its deprecated forerunner Upsample (7-9), both on kernels::compute_resize.
// They differ in where the target comes from: Upsample-7 a scales attribute, Upsample-9 and
// Resize-10 a scales input (X, scales), Resize-11 on (X, roi, scales, sizes) with exactly one of
// scales and sizes, and from 18 an axes attribute and keep_aspect_ratio_policy. Before Resize-11
// the coordinate transform is asymmetric and nearest rounding is the legacy floor/ceil rule.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/cpu/resize_ref.h"
#include "ops/cpu/dispatch.h"
#include "ops/cpu/parse_choice.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

using kernels::CoordinateTransform;
using kernels::NearestRounding;
using kernels::ResizeAxis;
using kernels::ResizeMode;

enum class AspectRatioPolicy { Stretch, NotLarger, NotSmaller };

class ResizeKernel final : public OpKernel {
 public:
  explicit ResizeKernel(const KernelInfo& info)
      : legacy_(info.node().op_type == "Upsample" || info.opset() < 11),
        upsample_(info.node().op_type == "Upsample") {
    if (legacy_) {
      options_.mode = parse_choice<ResizeMode>(info, "mode", "nearest",
                                               {{"nearest", ResizeMode::Nearest}, {"linear", ResizeMode::Linear}});
      options_.transform = CoordinateTransform::Asymmetric;
      options_.rounding = NearestRounding::Legacy;
      if (upsample_ && info.opset() < 9) {
        const std::vector<float> scales = info.attr_floats("scales");
        attribute_scales_.assign(scales.begin(), scales.end());
      }
      return;
    }
    options_.mode = parse_choice<ResizeMode>(
        info, "mode", "nearest",
        {{"nearest", ResizeMode::Nearest}, {"linear", ResizeMode::Linear}, {"cubic", ResizeMode::Cubic}});
    options_.transform = parse_choice<CoordinateTransform>(
        info, "coordinate_transformation_mode", "half_pixel",
        {{"half_pixel", CoordinateTransform::HalfPixel},
         {"half_pixel_symmetric", CoordinateTransform::HalfPixelSymmetric},
         {"pytorch_half_pixel", CoordinateTransform::PytorchHalfPixel},
         {"align_corners", CoordinateTransform::AlignCorners},
         {"asymmetric", CoordinateTransform::Asymmetric},
         {"tf_half_pixel_for_nn", CoordinateTransform::TfHalfPixelForNn},
         {"tf_crop_and_resize", CoordinateTransform::TfCropAndResize}});
    options_.rounding = parse_choice<NearestRounding>(info, "nearest_mode", "round_prefer_floor",
                                                      {{"round_prefer_floor", NearestRounding::RoundPreferFloor},
                                                       {"round_prefer_ceil", NearestRounding::RoundPreferCeil},
                                                       {"floor", NearestRounding::Floor},
                                                       {"ceil", NearestRounding::Ceil}});
    options_.cubic_coeff_a = info.attr_float("cubic_coeff_a", -0.75f);
    options_.exclude_outside = info.attr_int("exclude_outside", 0) != 0;
    options_.extrapolation_value = info.attr_float("extrapolation_value", 0.f);
    attribute_axes_ = info.attr_ints("axes", {});
    aspect_policy_ = parse_choice<AspectRatioPolicy>(info, "keep_aspect_ratio_policy", "stretch",
                                                     {{"stretch", AspectRatioPolicy::Stretch},
                                                      {"not_larger", AspectRatioPolicy::NotLarger},
                                                      {"not_smaller", AspectRatioPolicy::NotSmaller}});
    if (info.attr_int("antialias", 0) != 0)
      throw Error(ErrorCode::NotImplemented, "Resize with antialias = 1 is not supported");
  }

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const std::vector<ResizeAxis> axes = legacy_ ? legacy_plan(ctx, x.shape()) : plan(ctx, x.shape());
    Shape out_shape;
    for (const ResizeAxis& axis : axes) {
      if (axis.in_size == 0 && axis.out_size > 0)
        throw Error(ErrorCode::InvalidArgument, "cannot resize an empty axis to size " + std::to_string(axis.out_size));
      out_shape.push_back(axis.out_size);
    }
    Tensor& y = ctx.allocate_output(0, x.dtype(), out_shape);
    dispatch_dtype<float, double, int8_t, uint8_t, int32_t, int64_t>(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      kernels::compute_resize<T>(x.data<T>(), x.shape(), axes, options_, y.data<T>(), ctx.pool());
    });
  }

 private:
  static std::vector<ResizeAxis> unchanged_axes(const Shape& in) {
    std::vector<ResizeAxis> axes(in.size());
    for (size_t a = 0; a < in.size(); ++a) {
      axes[a].in_size = axes[a].out_size = in[a];
      axes[a].resized_length = static_cast<double>(in[a]);
    }
    return axes;
  }

  static std::vector<double> read_doubles(const Tensor& t) {
    std::vector<double> scales(static_cast<size_t>(t.numel()));
    for (int64_t i = 0; i < t.numel(); ++i) scales[static_cast<size_t>(i)] = t.value_as_double(i);
    return scales;
  }

  static void check_count(const char* what, size_t given, size_t expected) {
    if (given != expected)
      throw Error(ErrorCode::InvalidModel, std::string(what) + " has " + std::to_string(given) + " values, expected " +
                                               std::to_string(expected));
  }

  // A computed output size as an integer; one that is negative (a reversed roi) or does not fit is an error.
  static int64_t output_size(double size) {
    if (!(size >= 0 && size < 0x1p62))
      throw Error(ErrorCode::InvalidModel, "scales and roi give the invalid output size " + std::to_string(size));
    return static_cast<int64_t>(size);
  }

  // out = floor(in * scale), over the roi's extent for TfCropAndResize.
  void apply_scales(std::vector<ResizeAxis>& axes, const std::vector<int64_t>& resized,
                    const std::vector<double>& scales) const {
    check_count("scales", scales.size(), resized.size());
    for (size_t i = 0; i < resized.size(); ++i) {
      ResizeAxis& axis = axes[static_cast<size_t>(resized[i])];
      if (!(scales[i] > 0)) throw Error(ErrorCode::InvalidModel, "scales must be positive, got " + std::to_string(scales[i]));
      const double extent = options_.transform == CoordinateTransform::TfCropAndResize ? axis.roi_end - axis.roi_start : 1;
      axis.scale = scales[i];
      axis.resized_length = static_cast<double>(axis.in_size) * scales[i];
      axis.out_size = output_size(std::floor(axis.resized_length * extent));
    }
  }

  void apply_sizes(std::vector<ResizeAxis>& axes, const std::vector<int64_t>& resized,
                   const std::vector<int64_t>& sizes) const {
    check_count("sizes", sizes.size(), resized.size());
    std::vector<double> scales(sizes.size());
    for (size_t i = 0; i < sizes.size(); ++i) {
      if (sizes[i] < 0) throw Error(ErrorCode::InvalidModel, "sizes must not be negative, got " + std::to_string(sizes[i]));
      scales[i] = static_cast<double>(sizes[i]) / static_cast<double>(axes[static_cast<size_t>(resized[i])].in_size);
    }
    // The aspect-preserving policies scale every resized axis alike, by the smallest or largest ratio.
    if (aspect_policy_ != AspectRatioPolicy::Stretch && !scales.empty()) {
      const double common = aspect_policy_ == AspectRatioPolicy::NotLarger ? *std::min_element(scales.begin(), scales.end())
                                                                          : *std::max_element(scales.begin(), scales.end());
      std::fill(scales.begin(), scales.end(), common);
    }
    for (size_t i = 0; i < resized.size(); ++i) {
      ResizeAxis& axis = axes[static_cast<size_t>(resized[i])];
      axis.scale = scales[i];
      if (aspect_policy_ == AspectRatioPolicy::Stretch) {
        axis.out_size = sizes[i];
        axis.resized_length = static_cast<double>(sizes[i]);
      } else {
        axis.resized_length = scales[i] * static_cast<double>(axis.in_size);
        axis.out_size = output_size(std::floor(axis.resized_length + 0.5));
      }
    }
  }

  std::vector<ResizeAxis> legacy_plan(const KernelContext& ctx, const Shape& in) const {
    std::vector<ResizeAxis> axes = unchanged_axes(in);
    const std::vector<double> scales = attribute_scales_.empty() ? read_doubles(ctx.input(1)) : attribute_scales_;
    if (upsample_ && std::any_of(scales.begin(), scales.end(), [](double s) { return s < 1; }))
      throw Error(ErrorCode::InvalidModel, "Upsample scales must be at least 1");
    std::vector<int64_t> all(in.size());
    for (size_t a = 0; a < in.size(); ++a) all[a] = static_cast<int64_t>(a);
    apply_scales(axes, all, scales);
    return axes;
  }

  std::vector<ResizeAxis> plan(const KernelContext& ctx, const Shape& in) const {
    const auto rank = static_cast<int64_t>(in.size());
    std::vector<int64_t> resized;
    for (int64_t a : attribute_axes_) resized.push_back(normalize_axis(a, rank));
    if (attribute_axes_.empty())
      for (int64_t a = 0; a < rank; ++a) resized.push_back(a);
    std::vector<ResizeAxis> axes = unchanged_axes(in);
    if (options_.transform == CoordinateTransform::TfCropAndResize) {
      if (!ctx.has_input(1)) throw Error(ErrorCode::InvalidModel, "tf_crop_and_resize needs the roi input");
      const std::vector<double> roi = read_doubles(ctx.input(1));
      check_count("roi", roi.size(), 2 * resized.size());
      for (size_t i = 0; i < resized.size(); ++i) {
        axes[static_cast<size_t>(resized[i])].roi_start = roi[i];
        axes[static_cast<size_t>(resized[i])].roi_end = roi[i + resized.size()];
      }
    }
    const bool has_scales = ctx.has_input(2) && ctx.input(2).numel() > 0;
    const bool has_sizes = ctx.has_input(3) && ctx.input(3).numel() > 0;
    if (has_scales == has_sizes) throw Error(ErrorCode::InvalidModel, "exactly one of scales and sizes must be given");
    if (has_scales) {
      apply_scales(axes, resized, read_doubles(ctx.input(2)));
    } else {
      const Tensor& sizes = ctx.input(3);
      if (sizes.dtype() != DType::Int64)
        throw Error(ErrorCode::InvalidModel, std::string("sizes must be int64, got ") + dtype_name(sizes.dtype()));
      apply_sizes(axes, resized, sizes.to_int64_vector());
    }
    return axes;
  }

  bool legacy_;
  bool upsample_;
  kernels::ResizeOptions options_;
  std::vector<double> attribute_scales_;  // Upsample-7
  std::vector<int64_t> attribute_axes_;   // Resize-18 on; empty: every axis
  AspectRatioPolicy aspect_policy_ = AspectRatioPolicy::Stretch;
};

const std::vector<DType> kResizeTypes = {DType::Float32, DType::Float64, DType::Int8,
                                         DType::UInt8,   DType::Int32,   DType::Int64};
KILN_KERNEL(ResizeKernel, {.op = "Resize", .since = 10, .types = kResizeTypes});
KILN_KERNEL(ResizeKernel, {.op = "Upsample", .since = 7, .until = 9, .types = kResizeTypes});

}  // namespace
}  // namespace kiln::ops
