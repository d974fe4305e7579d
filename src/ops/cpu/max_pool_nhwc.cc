// kiln.MaxPool with channels_last: ONNX MaxPool's attributes over X [N, H, W, C], Y [N, OH, OW, C]
// (kernels/cpu/max_pool_nhwc.h), 2-D and without Indices; the form passes/quantized_channels_last
// gives an 8-bit MaxPool between int8 convolutions.
#include <string>

#include "kernels/cpu/max_pool_nhwc.h"
#include "ops/cpu/dispatch.h"
#include "ops/cpu/window_attributes.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

class MaxPoolNhwcKernel final : public OpKernel {
 public:
  explicit MaxPoolNhwcKernel(const KernelInfo& info) : attributes_(read_window_attributes(info)) {
    if (info.attr_int("channels_last", 0) != 1 || attributes_.kernel.size() != 2)
      throw Error(ErrorCode::NotImplemented, "kiln.MaxPool is 2-D max pooling with channels_last = 1");
  }

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    if (x.rank() != 4) throw Error(ErrorCode::InvalidArgument, "X must be [N, H, W, C], got " + shape_to_string(x.shape()));
    const kernels::WindowGeometry geometry = kernels::make_window_geometry({x.dim(1), x.dim(2)}, attributes_);
    const Shape y_shape = {x.dim(0), geometry.output[0], geometry.output[1], x.dim(3)};
    dispatch_dtype<float, uint8_t, int8_t>(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      kernels::max_pool_nhwc(x.data<T>(), x.dim(0), x.dim(3), geometry,
                             ctx.allocate_output(0, x.dtype(), y_shape).template data<T>(), ctx.pool());
    });
  }

 private:
  kernels::WindowAttributes attributes_;
};
KILN_KERNEL(MaxPoolNhwcKernel, {.op = "MaxPool", .domain = "kiln", .since = 1,
                                .types = {DType::Float32, DType::UInt8, DType::Int8}});

}  // namespace
}  // namespace kiln::ops
