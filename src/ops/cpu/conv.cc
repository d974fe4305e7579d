// Conv and ConvTranspose (float32, any number of spatial dims): attribute and shape checks around
// kernels::compute_conv and kernels::compute_conv_transpose. One template serves both: they share
// attributes and checks and differ in W's layout and how the output size is found.
#include "kernels/cpu/conv_ref.h"
#include "ops/cpu/window_attributes.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

template <bool Transposed>
class ConvKernel final : public OpKernel {
 public:
  explicit ConvKernel(const KernelInfo& info)
      : attributes_(read_window_attributes(info)), groups_(info.attr_int("group", 1)) {
    if (groups_ < 1) throw Error(ErrorCode::InvalidModel, "group " + std::to_string(groups_) + " is not positive");
    if constexpr (Transposed) {
      output_padding_ = info.attr_ints("output_padding", {});
      output_shape_ = info.attr_ints("output_shape", {});
    }
  }

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(1);
    const Tensor* bias = ctx.has_input(2) ? &ctx.input(2) : nullptr;
    const kernels::ConvShape shape = conv_shape(x, w, bias);
    Shape y_shape = {shape.batch, shape.out_channels};
    const Shape& y_spatial = Transposed ? shape.geometry.input : shape.geometry.output;
    y_shape.insert(y_shape.end(), y_spatial.begin(), y_spatial.end());
    float* y = ctx.allocate_output(0, DType::Float32, y_shape).template data<float>();
    const float* b = bias ? bias->data<float>() : nullptr;
    if constexpr (Transposed)
      kernels::compute_conv_transpose(x.data<float>(), w.data<float>(), b, y, shape, ctx.pool());
    else
      kernels::compute_conv(x.data<float>(), w.data<float>(), b, y, shape, ctx.pool());
  }

 private:
  // W is [M, C / group, kernel...] for Conv and [C, M / group, kernel...] for ConvTranspose.
  kernels::ConvShape conv_shape(const Tensor& x, const Tensor& w, const Tensor* bias) const {
    for (const Tensor* t : {&x, &w, bias})
      if (t && t->dtype() != DType::Float32)
        throw Error(ErrorCode::NotImplemented, std::string("inputs of dtype ") + dtype_name(t->dtype()) +
                                                   " are not supported; X, W and B must be float32");
    const Shape x_spatial = spatial_dims(x);
    if (w.rank() != x.rank())
      throw Error(ErrorCode::InvalidArgument, "W of shape " + shape_to_string(w.shape()) + " does not match X of shape " +
                                                  shape_to_string(x.shape()));
    kernels::ConvShape shape;
    shape.batch = x.dim(0);
    shape.in_channels = x.dim(1);
    shape.groups = groups_;
    shape.out_channels = Transposed ? w.dim(1) * groups_ : w.dim(0);
    const int64_t expected_in_channels = Transposed ? w.dim(0) : w.dim(1) * groups_;
    const int64_t split_channels = Transposed ? shape.in_channels : shape.out_channels;
    if (shape.in_channels != expected_in_channels || split_channels % groups_ != 0)
      throw Error(ErrorCode::InvalidArgument, "X of shape " + shape_to_string(x.shape()) + " and W of shape " +
                                                  shape_to_string(w.shape()) + " do not agree with group " +
                                                  std::to_string(groups_));
    if (bias && (bias->rank() != 1 || bias->dim(0) != shape.out_channels))
      throw Error(ErrorCode::InvalidArgument, "B of shape " + shape_to_string(bias->shape()) + " is not [" +
                                                  std::to_string(shape.out_channels) + "]");

    kernels::WindowAttributes attributes = attributes_;
    const Shape w_kernel(w.shape().begin() + 2, w.shape().end());
    if (attributes.kernel.empty()) attributes.kernel = w_kernel;
    if (attributes.kernel != w_kernel)
      throw Error(ErrorCode::InvalidArgument, "kernel_shape " + shape_to_string(attributes.kernel) +
                                                  " does not match W of shape " + shape_to_string(w.shape()));
    shape.geometry = Transposed ? kernels::make_transposed_window_geometry(x_spatial, attributes, output_padding_,
                                                                           output_shape_)
                                : kernels::make_window_geometry(x_spatial, attributes);
    return shape;
  }

  kernels::WindowAttributes attributes_;
  int64_t groups_;
  std::vector<int64_t> output_padding_, output_shape_;
};

using ConvForwardKernel = ConvKernel<false>;
KILN_KERNEL(ConvForwardKernel, {.op = "Conv", .since = 1, .types = types::kFloat});
using ConvTransposeKernel = ConvKernel<true>;
KILN_KERNEL(ConvTransposeKernel, {.op = "ConvTranspose", .since = 1, .types = types::kFloat});

}  // namespace
}  // namespace kiln::ops
