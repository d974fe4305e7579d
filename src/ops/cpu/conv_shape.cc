#include "ops/cpu/conv_shape.h"

#include <string>

#include "ops/cpu/window_attributes.h"

namespace kiln::ops {

ConvAttributes read_conv_attributes(const KernelInfo& info) {
  ConvAttributes attributes;
  attributes.window = read_window_attributes(info);
  attributes.groups = info.attr_int("group", 1);
  if (attributes.groups < 1)
    throw Error(ErrorCode::InvalidModel, "group " + std::to_string(attributes.groups) + " is not positive");
  attributes.output_padding = info.attr_ints("output_padding", {});
  attributes.output_shape = info.attr_ints("output_shape", {});
  return attributes;
}

kernels::ConvShape make_conv_shape(const ConvAttributes& attributes, const Tensor& x, const Tensor& w,
                                   const Tensor* bias, bool transposed) {
  const Shape x_spatial = spatial_dims(x);
  if (w.rank() != x.rank())
    throw Error(ErrorCode::InvalidArgument, "W of shape " + shape_to_string(w.shape()) + " does not match X of shape " +
                                                shape_to_string(x.shape()));
  const int64_t groups = attributes.groups;
  kernels::ConvShape shape;
  shape.batch = x.dim(0);
  shape.in_channels = x.dim(1);
  shape.groups = groups;
  shape.out_channels = transposed ? w.dim(1) * groups : w.dim(0);
  const int64_t expected_in_channels = transposed ? w.dim(0) : w.dim(1) * groups;
  const int64_t split_channels = transposed ? shape.in_channels : shape.out_channels;
  if (shape.in_channels != expected_in_channels || split_channels % groups != 0)
    throw Error(ErrorCode::InvalidArgument, "X of shape " + shape_to_string(x.shape()) + " and W of shape " +
                                                shape_to_string(w.shape()) + " do not agree with group " +
                                                std::to_string(groups));
  if (bias && (bias->rank() != 1 || bias->dim(0) != shape.out_channels))
    throw Error(ErrorCode::InvalidArgument, "B of shape " + shape_to_string(bias->shape()) + " is not [" +
                                                std::to_string(shape.out_channels) + "]");

  kernels::WindowAttributes window = attributes.window;
  const Shape w_kernel(w.shape().begin() + 2, w.shape().end());
  if (window.kernel.empty()) window.kernel = w_kernel;
  if (window.kernel != w_kernel)
    throw Error(ErrorCode::InvalidArgument, "kernel_shape " + shape_to_string(window.kernel) +
                                                " does not match W of shape " + shape_to_string(w.shape()));
  shape.geometry = transposed ? kernels::make_transposed_window_geometry(x_spatial, window, attributes.output_padding,
                                                                         attributes.output_shape)
                              : kernels::make_window_geometry(x_spatial, window);
  return shape;
}

Shape conv_output_shape(const kernels::ConvShape& shape, bool transposed) {
  Shape y = {shape.batch, shape.out_channels};
  const Shape& spatial = transposed ? shape.geometry.input : shape.geometry.output;
  y.insert(y.end(), spatial.begin(), spatial.end());
  return y;
}

}  // namespace kiln::ops
