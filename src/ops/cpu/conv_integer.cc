// ConvInteger and QLinearConv: 8-bit convolutions accumulated in int32, with Conv's attributes and
// shape checks. QLinearConv then requantizes each output channel's sums plus its int32 bias with
// multiplier x_scale * w_scale / y_scale.
//
// With constant 2-D weights (and weight zero points) the weights are packed once and the
// convolution runs on the int8 GEMM (kernels/cpu/qconv.h); otherwise on the scalar reference
// kernels::compute_conv_integer, which is also the fast path's test oracle. kiln.QLinearConv is
// the same op with `channels_last`: X [N, H, W, C] and Y [N, OH, OW, M], which only the prepared
// path takes (passes/quantized_channels_last.h makes it only then).
#include <optional>
#include <string>
#include <vector>

#include "kernels/cpu/conv_ref.h"
#include "kernels/cpu/qconv.h"
#include "kernels/cpu/quant_ref.h"
#include "ops/cpu/conv_shape.h"
#include "ops/cpu/quant_params.h"
#include "ops/cpu/type_list.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

// The int32 convolution of X and W minus their zero points by the reference: X's is a single
// value, W's a single value or one per output channel. Absent zero points are 0.
Tensor convolve_integers(const kernels::ConvShape& shape, const Tensor& x, const Tensor* x_zero_point, const Tensor& w,
                         const Tensor* w_zero_point, ThreadPool& pool) {
  const int32_t x_zero = read_zero_points(x_zero_point, x.dtype(), 1, "x_zero_point")[0];
  const std::vector<int32_t> w_zero = read_zero_points(w_zero_point, w.dtype(), shape.out_channels, "w_zero_point");
  Tensor y(DType::Int32, conv_output_shape(shape, false));
  QuantizedTypes::dispatch(x.dtype(), [&](auto x_tag) {
    QuantizedTypes::dispatch(w.dtype(), [&](auto w_tag) {
      using TX = typename decltype(x_tag)::type;
      using TW = typename decltype(w_tag)::type;
      kernels::compute_conv_integer(x.data<TX>(), x_zero, w.data<TW>(), w_zero.data(), y.data<int32_t>(), shape, pool);
    });
  });
  return y;
}

// The weights packed for the int8 GEMM when W (input w_index) and its zero point (zp_index) are
// constants of a 2-D convolution; nullopt otherwise.
std::optional<kernels::PreparedQConv> prepare(const KernelInfo& info, const ConvAttributes& attributes, size_t w_index,
                                              size_t zp_index) {
  const Tensor* w = info.constant_input(w_index);
  const Tensor* zp = info.has_input(zp_index) ? info.constant_input(zp_index) : nullptr;
  if (!w || w->rank() != 4 || (info.has_input(zp_index) && !zp) || w->dim(0) % attributes.groups != 0) return std::nullopt;
  if (w->dtype() != DType::UInt8 && w->dtype() != DType::Int8) return std::nullopt;
  const int64_t channels = w->dim(0);
  const std::vector<int32_t> zero_points = read_zero_points(zp, w->dtype(), zp && zp->numel() > 1 ? channels : 1, "w_zero_point");
  return kernels::PreparedQConv(info.cpu_level(), channels, w->dim(1), attributes.groups, w->dim(2), w->dim(3), w->raw(),
                                w->dtype() == DType::Int8, zero_points, info.weights());
}

class ConvIntegerKernel final : public OpKernel {
 public:
  explicit ConvIntegerKernel(const KernelInfo& info)
      : attributes_(read_conv_attributes(info)), prepared_(prepare(info, attributes_, 1, 3)) {}

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(1);
    const Tensor* x_zero_point = ctx.has_input(2) ? &ctx.input(2) : nullptr;
    const kernels::ConvShape shape = make_conv_shape(attributes_, x, w, nullptr, false);
    if (!prepared_ || !kernels::PreparedQConv::supports(shape)) {
      ctx.set_output(0, convolve_integers(shape, x, x_zero_point, w, ctx.has_input(3) ? &ctx.input(3) : nullptr, ctx.pool()));
      return;
    }
    const int32_t x_zero = read_zero_points(x_zero_point, x.dtype(), 1, "x_zero_point")[0];
    Tensor& y = ctx.allocate_output(0, DType::Int32, conv_output_shape(shape, false));
    prepared_->run(shape, x.raw(), x.dtype() == DType::Int8, x_zero, {y.data<int32_t>(), {}}, false, ctx.pool());
  }

 private:
  ConvAttributes attributes_;
  std::optional<kernels::PreparedQConv> prepared_;
};
KILN_KERNEL(ConvIntegerKernel, {.op = "ConvInteger", .since = 10, .types = QuantizedTypes::dtypes()});

// x_scale * w_scale[m] / y_scale per output channel, the requantization multipliers.
std::vector<float> requantization_multipliers(const Tensor& x_scale, const Tensor& w_scale, const Tensor& y_scale,
                                              int64_t channels) {
  const float x = read_scales(x_scale, 1, "x_scale")[0], y = read_scales(y_scale, 1, "y_scale")[0];
  std::vector<float> multipliers = read_scales(w_scale, channels, "w_scale");
  for (float& m : multipliers) m = x * m / y;
  return multipliers;
}

// The multipliers computed once when the scales and W are constants (as in every quantized model),
// so that runs do not recompute or allocate them; empty otherwise.
std::vector<float> constant_multipliers(const KernelInfo& info) {
  const Tensor *x = info.constant_input(1), *w = info.constant_input(3), *ws = info.constant_input(4),
               *y = info.constant_input(6);
  if (!x || !w || !ws || !y || w->rank() == 0) return {};
  return requantization_multipliers(*x, *ws, *y, w->dim(0));
}

class QLinearConvKernel final : public OpKernel {
 public:
  explicit QLinearConvKernel(const KernelInfo& info)
      : attributes_(read_conv_attributes(info)),
        prepared_(prepare(info, attributes_, 3, 5)),
        multipliers_(constant_multipliers(info)),
        channels_last_(info.attr_int("channels_last", 0) != 0) {
    if (channels_last_ && (!prepared_ || attributes_.window.kernel.size() > 2))
      throw Error(ErrorCode::NotImplemented, "channels_last QLinearConv needs constant 2-D weights and weight zero points");
  }

  void compute(KernelContext& ctx) const override {
    const Tensor& input = ctx.input(0);
    if (channels_last_ && input.rank() != 4)
      throw Error(ErrorCode::InvalidArgument, "channels_last X must be [N, H, W, C], got " + shape_to_string(input.shape()));
    // The channels-last X described as NCHW for the shape checks: only its dims are read.
    const Tensor x = channels_last_ ? input.reshaped({input.dim(0), input.dim(3), input.dim(1), input.dim(2)}) : input;
    const Tensor& w = ctx.input(3);
    const Tensor* bias = ctx.has_input(8) ? &ctx.input(8) : nullptr;
    if (bias && bias->dtype() != DType::Int32)
      throw Error(ErrorCode::InvalidModel, std::string("B has dtype ") + dtype_name(bias->dtype()) + "; it must be int32");
    const kernels::ConvShape shape = make_conv_shape(attributes_, x, w, bias, false);
    const int64_t channels = shape.out_channels;
    std::vector<float> run_multipliers;
    if (multipliers_.empty())
      run_multipliers = requantization_multipliers(ctx.input(1), ctx.input(4), ctx.input(6), channels);
    const std::vector<float>& multipliers = multipliers_.empty() ? run_multipliers : multipliers_;
    const Tensor& y_zero_point = ctx.input(7);
    const DType y_dtype = y_zero_point.dtype();
    const int32_t y_zero = read_zero_points(&y_zero_point, y_dtype, 1, "y_zero_point")[0];
    const int32_t* pbias = bias ? bias->data<int32_t>() : nullptr;

    if (prepared_ && kernels::PreparedQConv::supports(shape)) {
      const int32_t x_zero = read_zero_points(&ctx.input(2), x.dtype(), 1, "x_zero_point")[0];
      Shape y_shape = conv_output_shape(shape, false);
      if (channels_last_) y_shape = {y_shape[0], y_shape[2], y_shape[3], y_shape[1]};
      Tensor& y = ctx.allocate_output(0, y_dtype, y_shape);
      kernels::Requantization requantize{pbias, multipliers.data(), 1, y_zero};
      kernels::PreparedQConv::Output output{static_cast<uint8_t*>(nullptr), requantize};
      if (y_dtype == DType::Int8)
        output.y = y.data<int8_t>();
      else
        output.y = y.data<uint8_t>();
      prepared_->run(shape, x.raw(), x.dtype() == DType::Int8, x_zero, output, channels_last_, ctx.pool());
      return;
    }
    if (channels_last_)
      throw Error(ErrorCode::NotImplemented, "channels_last QLinearConv runs 2-D convolutions only, got X " +
                                                 shape_to_string(input.shape()));
    const Tensor acc = convolve_integers(shape, x, &ctx.input(2), w, &ctx.input(5), ctx.pool());
    const int32_t* pacc = acc.data<int32_t>();
    const int64_t positions = shape.geometry.output_size();
    QuantizedTypes::dispatch(y_dtype, [&](auto tag) {
      using Q = typename decltype(tag)::type;
      Q* py = ctx.allocate_output(0, y_dtype, acc.shape()).template data<Q>();
      // One plane of `positions` values per (image, output channel).
      ctx.pool().parallel_for(shape.batch * channels, [&](int64_t begin, int64_t end) {
        for (int64_t plane = begin; plane < end; ++plane) {
          const int64_t m = plane % channels;
          kernels::requantize_ref(positions, pacc + plane * positions, pbias ? pbias[m] : 0,
                                  &multipliers[static_cast<size_t>(m)], 0, y_zero, py + plane * positions);
        }
      });
    });
  }

 private:
  ConvAttributes attributes_;
  std::optional<kernels::PreparedQConv> prepared_;
  std::vector<float> multipliers_;
  bool channels_last_;
};
KILN_KERNEL(QLinearConvKernel, {.op = "QLinearConv", .since = 10, .types = QuantizedTypes::dtypes()});
KILN_KERNEL(QLinearConvKernel, {.op = "QLinearConv", .domain = "kiln", .since = 1, .types = QuantizedTypes::dtypes()});

}  // namespace
}  // namespace kiln::ops
