// kiln.NchwcConv: a convolution, optionally fused with a residual input Z and an activation as
// kiln.FusedConv is, on NCHWc tensors (kernels/cpu/nchwc.h). The level-3 layout pass creates it
// from Conv and FusedConv nodes with constant weights, group 1 or depthwise, horizontal strides 1
// or 2 and explicit pads. Inputs: X [N, ceil(C / block), H, W, block] (with attribute
// nchw_input = 1, plain [N, C, H, W]: a first convolution over too few channels to fill a
// block, which then reads its input in place), W the ONNX weight
// [M, C / group, kh, kw] (an initializer: packed here, once), B [M] (optional), Z (optional,
// NCHWc, broadcasting to Y). Output Y [N, ceil(M / block), OH, OW, block].
#include <memory>

#include "kernels/cpu/broadcast.h"
#include "kernels/cpu/nchwc.h"
#include "kernels/cpu/nchwc_conv.h"
#include "ops/cpu/conv_shape.h"
#include "ops/cpu/fused_activation.h"
#include "ops/cpu/nchwc_block.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

class NchwcConvKernel final : public OpKernel {
 public:
  explicit NchwcConvKernel(const KernelInfo& info)
      : attributes_(read_conv_attributes(info)),
        activation_(read_fused_activation(info)),
        block_(read_nchwc_block(info)),
        nchw_input_(info.attr_int("nchw_input", 0) != 0) {
    const Tensor& w = nchwc_constant_weights(info, 1, "W");
    const int64_t out_channels = w.dim(0);
    const bool depthwise = attributes_.groups > 1;
    if (depthwise && (attributes_.groups != out_channels || w.dim(1) != 1))
      throw Error(ErrorCode::NotImplemented, "group " + std::to_string(attributes_.groups) + " with W " +
                                                 shape_to_string(w.shape()) + ": only group 1 and depthwise are supported");
    check_nchwc_window(attributes_.window);
    const std::vector<int64_t> w_kernel{w.dim(2), w.dim(3)};
    if (attributes_.window.kernel.empty()) attributes_.window.kernel = w_kernel;
    if (attributes_.window.kernel != w_kernel)
      throw Error(ErrorCode::InvalidModel, "kernel_shape does not match W " + shape_to_string(w.shape()));
    prepared_ = std::make_unique<kernels::PreparedNchwcConv>(info.cpu_level(), w.data<float>(), out_channels,
                                                             depthwise ? out_channels : w.dim(1), w.dim(2), w.dim(3),
                                                             depthwise, nchw_input_, info.weights());
    if (const Tensor* b = info.has_input(2) ? info.constant_input(2) : nullptr)
      bias_ = prepare_nchwc_padded_bias(info, "bias", *b, out_channels, block_);
  }

  // W lives on in prepared_ only; a constant B in bias_.
  bool reads_constant_data(size_t input) const override { return !(input == 1 || (input == 2 && !bias_.empty())); }

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const int64_t in_blocks = kernels::nchwc_blocks(prepared_->in_channels(), prepared_->in_lanes());
    const bool laid_out = nchw_input_ ? x.rank() == 4 && x.dim(1) == in_blocks
                                      : x.rank() == 5 && x.dim(1) == in_blocks && x.dim(4) == block_;
    if (x.dtype() != DType::Float32 || !laid_out)
      throw Error(ErrorCode::InvalidArgument,
                  (nchw_input_ ? "X must be float32 NCHW [N, " + std::to_string(in_blocks) + ", H, W]"
                               : "X must be float32 NCHWc [N, " + std::to_string(in_blocks) + ", H, W, " +
                                     std::to_string(block_) + "]") +
                      ", got " + dtype_name(x.dtype()) + " " + shape_to_string(x.shape()));
    const kernels::WindowGeometry window = kernels::make_window_geometry({x.dim(2), x.dim(3)}, attributes_.window);
    const kernels::NchwcConvGeometry g{x.dim(0),          x.dim(2),          x.dim(3),
                                       window.output[0],  window.output[1],  window.kernel[0],
                                       window.kernel[1],  window.strides[0], window.strides[1],
                                       window.dilations[0], window.dilations[1], window.pads_begin[0],
                                       window.pads_begin[1]};
    const Shape y_shape{g.batch, kernels::nchwc_blocks(prepared_->out_channels(), block_), g.out_h, g.out_w, block_};
    std::vector<float> run_bias;
    const float* bias = bias_.empty() ? nullptr : bias_.as<float>();
    if (ctx.has_input(2) && !bias) {
      run_bias = nchwc_padded_bias(ctx.input(2), prepared_->out_channels(), block_);
      bias = run_bias.data();
    }
    Tensor& y = ctx.allocate_output(0, DType::Float32, y_shape);
    const Tensor* z = ctx.has_input(3) ? &ctx.input(3) : nullptr;
    if (!z || z->shape() == y_shape) {
      if (z && z->dtype() != DType::Float32) throw Error(ErrorCode::InvalidArgument, "Z must be float32");
      return prepared_->run(x.data<float>(), g, y.data<float>(), {bias, z ? z->data<float>() : nullptr, activation_},
                            ctx.pool());
    }
    // A Z that broadcasts (a per-channel [1, blocks, 1, 1, block] term) is added after the
    // convolution, then the activation.
    if (z->dtype() != DType::Float32 || !kernels::broadcasts_to(z->shape(), y_shape))
      throw Error(ErrorCode::InvalidArgument, "Z " + shape_to_string(z->shape()) + " does not broadcast to Y " +
                                                  shape_to_string(y_shape));
    prepared_->run(x.data<float>(), g, y.data<float>(), {bias, nullptr, {}}, ctx.pool());
    const std::vector<int64_t> strides[1] = {kernels::broadcast_strides(z->shape(), y_shape)};
    float* out = y.data<float>();
    const float* zs = z->data<float>();
    kernels::for_each_broadcast(y_shape, strides, [&](int64_t i, const int64_t* o) {
      out[i] = kernels::apply_activation_ref(activation_, out[i] + zs[o[0]]);
    });
  }

 private:
  ConvAttributes attributes_;
  kernels::Activation activation_;
  int64_t block_;
  bool nchw_input_;
  std::unique_ptr<kernels::PreparedNchwcConv> prepared_;
  PreparedWeights bias_;  // padded, when B is constant
};
KILN_KERNEL(NchwcConvKernel, {.op = "NchwcConv", .domain = "kiln", .since = 1, .types = types::kFloat});

}  // namespace
}  // namespace kiln::ops
