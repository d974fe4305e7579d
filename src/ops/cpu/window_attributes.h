// Reading the window attributes that Conv, ConvTranspose and the pooling ops share.
#pragma once

#include "kernels/cpu/window_geometry.h"
#include "ops/kernel.h"

namespace kiln::ops {

// kernel_shape (empty when absent: Conv infers it from W), strides, dilations, pads, auto_pad, ceil_mode.
kernels::WindowAttributes read_window_attributes(const KernelInfo& info);

// The spatial dims of an [N, C, spatial...] tensor; throws InvalidArgument below rank 3.
Shape spatial_dims(const Tensor& x);

}  // namespace kiln::ops
