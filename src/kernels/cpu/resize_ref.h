// N-d Resize (ONNX Resize / Upsample): nearest, linear and cubic interpolation under every ONNX
// coordinate transformation. Interpolation is separable, so the tensor is resampled one axis at a
// time; axes whose mapping is the identity are skipped. Float bilinear resizes of the last two axes
// instead compute as ONNX Runtime does, bit for bit (resize_ref.cc says why).
#pragma once

#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "kiln/tensor.h"

namespace kiln::kernels {

enum class ResizeMode { Nearest, Linear, Cubic };

// How an output coordinate maps to an input coordinate (ONNX coordinate_transformation_mode).
enum class CoordinateTransform {
  HalfPixel,
  HalfPixelSymmetric,
  PytorchHalfPixel,
  AlignCorners,
  Asymmetric,
  TfHalfPixelForNn,
  TfCropAndResize,
};

// How Nearest turns a fractional input coordinate into an index (ONNX nearest_mode). Legacy is the
// rule of Upsample and Resize-10, before nearest_mode existed: floor when upsampling, ceil when
// downsampling.
enum class NearestRounding { RoundPreferFloor, RoundPreferCeil, Floor, Ceil, Legacy };

struct ResizeOptions {
  ResizeMode mode = ResizeMode::Nearest;
  CoordinateTransform transform = CoordinateTransform::HalfPixel;
  NearestRounding rounding = NearestRounding::RoundPreferFloor;
  double cubic_coeff_a = -0.75;
  // Cubic: taps that fall outside the input get weight 0 and the others are renormalized.
  bool exclude_outside = false;
  // TfCropAndResize: the value of outputs whose coordinate falls outside the input.
  double extrapolation_value = 0;
};

// One axis of a resize. `scale` is what the coordinate transform divides by: the given scale, or
// out_size / in_size when sizes were given. `resized_length` is the resized length the transforms
// that use one (align_corners, pytorch_half_pixel, tf_crop_and_resize, half_pixel_symmetric) see:
// as in the ONNX reference, in_size * scale unrounded when scales were given, the size otherwise.
// roi_start/roi_end (normalized) are used by TfCropAndResize.
struct ResizeAxis {
  int64_t in_size = 1;
  int64_t out_size = 1;
  double scale = 1;
  double resized_length = 1;
  double roi_start = 0;
  double roi_end = 1;
};

// Resizes `in` (shape `in_shape`) into `out`, whose shape is the axes' out_size, with one ResizeAxis
// per dim. An axis with out_size > 0 needs in_size > 0. Linear and Cubic need a floating T (else
// NotImplemented). Instantiated for float, double, int8_t, uint8_t, int32_t and int64_t.
template <class T>
void compute_resize(const T* in, const Shape& in_shape, const std::vector<ResizeAxis>& axes,
                    const ResizeOptions& options, T* out, ThreadPool& pool);

}  // namespace kiln::kernels
