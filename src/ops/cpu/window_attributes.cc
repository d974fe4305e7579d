#include "ops/cpu/window_attributes.h"

namespace kiln::ops {

kernels::WindowAttributes read_window_attributes(const KernelInfo& info) {
  kernels::WindowAttributes a;
  a.kernel = info.attr_ints("kernel_shape", {});
  a.strides = info.attr_ints("strides", {});
  a.dilations = info.attr_ints("dilations", {});
  a.pads = info.attr_ints("pads", {});
  a.auto_pad = kernels::parse_auto_pad(info.attr_string("auto_pad", "NOTSET"));
  a.ceil_mode = info.attr_int("ceil_mode", 0) != 0;
  return a;
}

Shape spatial_dims(const Tensor& x) {
  if (x.rank() < 3)
    throw Error(ErrorCode::InvalidArgument, "input of shape " + shape_to_string(x.shape()) +
                                                " is not [N, C, spatial...] with at least one spatial dim");
  return Shape(x.shape().begin() + 2, x.shape().end());
}

}  // namespace kiln::ops
