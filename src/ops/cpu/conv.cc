// Conv, kiln.FusedConv and ConvTranspose (float32). A Conv with constant 1-D or 2-D weights runs
// a PreparedConv2d (weights packed at session creation); other convolutions, and the transposed
// one, run the reference kernels. kiln.FusedConv is Conv followed by an optional residual input Z
// (added before the activation) and a fused activation, as the optimizer rewrites them.
#include <memory>

#include "kernels/cpu/broadcast.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/conv_ref.h"
#include "ops/cpu/conv_shape.h"
#include "ops/cpu/fused_activation.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

void check_float_inputs(std::initializer_list<const Tensor*> inputs) {
  for (const Tensor* t : inputs)
    if (t && t->dtype() != DType::Float32)
      throw Error(ErrorCode::NotImplemented, std::string("inputs of dtype ") + dtype_name(t->dtype()) +
                                                 " are not supported; X, W and B must be float32");
}

std::unique_ptr<kernels::PreparedConv2d> prepare(const KernelInfo& info, int64_t groups) {
  const Tensor* w = info.constant_input(1);
  if (!w || w->dtype() != DType::Float32 || (w->rank() != 3 && w->rank() != 4) || groups <= 0 ||
      w->dim(0) % groups != 0 || w->numel() == 0)
    return nullptr;
  const bool two_d = w->rank() == 4;
  return std::make_unique<kernels::PreparedConv2d>(info.cpu_level(), w->data<float>(), w->dim(0), w->dim(1),
                                                   two_d ? w->dim(2) : 1, two_d ? w->dim(3) : w->dim(2), groups,
                                                   info.weights());
}

class ConvKernel final : public OpKernel {
 public:
  explicit ConvKernel(const KernelInfo& info)
      : attributes_(read_conv_attributes(info)),
        activation_(read_fused_activation(info)),
        prepared_(prepare(info, attributes_.groups)) {}

  // Prepared weights stand in for W (make_conv_shape holds X to W's rank, so they always apply).
  bool reads_constant_data(size_t input) const override { return !(input == 1 && prepared_); }

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(1);
    const Tensor* bias = ctx.has_input(2) ? &ctx.input(2) : nullptr;
    const Tensor* residual = ctx.has_input(3) ? &ctx.input(3) : nullptr;
    check_float_inputs({&x, &w, bias, residual});
    const kernels::ConvShape shape = make_conv_shape(attributes_, x, w, bias, false);
    const Shape y_shape = conv_output_shape(shape, false);
    const float* b = bias ? bias->data<float>() : nullptr;
    if (!residual) {
      float* y = ctx.allocate_output(0, DType::Float32, y_shape).data<float>();
      return convolve(x, w, shape, y, {b, nullptr, activation_}, ctx.pool());
    }
    // Z broadcasts as Add's second operand would; when it also widens the result, the sum is
    // formed after the convolution instead of inside its epilogue.
    const Shape out_shape = kernels::broadcast_shapes(y_shape, residual->shape());
    if (out_shape == y_shape) {
      float* y = ctx.allocate_output(0, DType::Float32, y_shape).data<float>();
      const Tensor z = residual->shape() == y_shape ? *residual : broadcast_to(*residual, y_shape);
      return convolve(x, w, shape, y, {b, z.data<float>(), activation_}, ctx.pool());
    }
    Tensor conv(DType::Float32, y_shape);
    convolve(x, w, shape, conv.data<float>(), {b, nullptr, {}}, ctx.pool());
    const Tensor widened = broadcast_to(conv, out_shape), z = broadcast_to(*residual, out_shape);
    float* y = ctx.allocate_output(0, DType::Float32, out_shape).data<float>();
    for (int64_t i = 0; i < widened.numel(); ++i)
      y[i] = kernels::apply_activation_ref(activation_, widened.data<float>()[i] + z.data<float>()[i]);
  }

 private:
  void convolve(const Tensor& x, const Tensor& w, const kernels::ConvShape& shape, float* y,
                const kernels::ConvEpilogue& epilogue, ThreadPool& pool) const {
    if (prepared_) return prepared_->run(x.data<float>(), shape, y, epilogue, pool);
    kernels::compute_conv(x.data<float>(), w.data<float>(), epilogue.bias, y, shape, pool);
    const int64_t n = shape_numel(conv_output_shape(shape, false));
    for (int64_t i = 0; i < n; ++i)
      y[i] = kernels::apply_activation_ref(epilogue.activation, y[i] + (epilogue.residual ? epilogue.residual[i] : 0.f));
  }

  static Tensor broadcast_to(const Tensor& z, const Shape& shape) {
    Tensor out(DType::Float32, shape);
    const std::vector<int64_t> strides[1] = {kernels::broadcast_strides(z.shape(), shape)};
    const float* src = z.data<float>();
    float* dst = out.data<float>();
    kernels::for_each_broadcast(shape, strides, [&](int64_t i, const int64_t* o) { dst[i] = src[o[0]]; });
    return out;
  }

  ConvAttributes attributes_;
  kernels::Activation activation_;
  std::unique_ptr<kernels::PreparedConv2d> prepared_;
};
KILN_KERNEL(ConvKernel, {.op = "Conv", .since = 1, .types = types::kFloat});
KILN_KERNEL(ConvKernel, {.op = "FusedConv", .domain = "kiln", .since = 1, .types = types::kFloat});

class ConvTransposeKernel final : public OpKernel {
 public:
  explicit ConvTransposeKernel(const KernelInfo& info) : attributes_(read_conv_attributes(info)) {}

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(1);
    const Tensor* bias = ctx.has_input(2) ? &ctx.input(2) : nullptr;
    check_float_inputs({&x, &w, bias});
    const kernels::ConvShape shape = make_conv_shape(attributes_, x, w, bias, true);
    float* y = ctx.allocate_output(0, DType::Float32, conv_output_shape(shape, true)).data<float>();
    kernels::compute_conv_transpose(x.data<float>(), w.data<float>(), bias ? bias->data<float>() : nullptr, y, shape,
                                    ctx.pool());
  }

 private:
  ConvAttributes attributes_;
};
KILN_KERNEL(ConvTransposeKernel, {.op = "ConvTranspose", .since = 1, .types = types::kFloat});

}  // namespace
}  // namespace kiln::ops
