// Conv and ConvTranspose (float32, any number of spatial dims): attribute and shape checks around
// kernels::compute_conv and kernels::compute_conv_transpose. One template serves both: they share
// attributes and checks and differ in W's layout and how the output size is found.
#include "kernels/cpu/conv_ref.h"
#include "ops/cpu/conv_shape.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

template <bool Transposed>
class ConvKernel final : public OpKernel {
 public:
  explicit ConvKernel(const KernelInfo& info) : attributes_(read_conv_attributes(info)) {}

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(1);
    const Tensor* bias = ctx.has_input(2) ? &ctx.input(2) : nullptr;
    for (const Tensor* t : {&x, &w, bias})
      if (t && t->dtype() != DType::Float32)
        throw Error(ErrorCode::NotImplemented, std::string("inputs of dtype ") + dtype_name(t->dtype()) +
                                                   " are not supported; X, W and B must be float32");
    const kernels::ConvShape shape = make_conv_shape(attributes_, x, w, bias, Transposed);
    float* y = ctx.allocate_output(0, DType::Float32, conv_output_shape(shape, Transposed)).template data<float>();
    const float* b = bias ? bias->data<float>() : nullptr;
    if constexpr (Transposed)
      kernels::compute_conv_transpose(x.data<float>(), w.data<float>(), b, y, shape, ctx.pool());
    else
      kernels::compute_conv(x.data<float>(), w.data<float>(), b, y, shape, ctx.pool());
  }

 private:
  ConvAttributes attributes_;
};

using ConvForwardKernel = ConvKernel<false>;
KILN_KERNEL(ConvForwardKernel, {.op = "Conv", .since = 1, .types = types::kFloat});
using ConvTransposeKernel = ConvKernel<true>;
KILN_KERNEL(ConvTransposeKernel, {.op = "ConvTranspose", .since = 1, .types = types::kFloat});

}  // namespace
}  // namespace kiln::ops
