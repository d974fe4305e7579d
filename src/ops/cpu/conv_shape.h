// The attributes and shape checks that Conv, ConvTranspose, ConvInteger and QLinearConv share.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/cpu/conv_ref.h"
#include "ops/kernel.h"

namespace kiln::ops {

struct ConvAttributes {
  kernels::WindowAttributes window;  // kernel is empty when absent: W's spatial dims give it
  int64_t groups = 1;
  std::vector<int64_t> output_padding, output_shape;  // ConvTranspose only
};

// Throws InvalidModel for a group that is not positive.
ConvAttributes read_conv_attributes(const KernelInfo& info);

// The shape of X convolved with W, which is [M, C / group, kernel...] for a convolution and
// [C, M / group, kernel...] for a transposed one. Checks that X, W, the bias (when not null; its
// shape only) and the attributes agree; throws InvalidArgument when they do not.
kernels::ConvShape make_conv_shape(const ConvAttributes& attributes, const Tensor& x, const Tensor& w,
                                   const Tensor* bias, bool transposed);

// Y's shape [N, M, spatial...].
Shape conv_output_shape(const kernels::ConvShape& shape, bool transposed);

}  // namespace kiln::ops
