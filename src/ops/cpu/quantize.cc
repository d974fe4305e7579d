// QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear: parameter checks around
// kernels::quantize_linear_ref and dequantize_linear_ref. Scales and zero points are per tensor, or
// (from opset 13) per channel along `axis`. Blocked quantization (opset 21's block_size) is not
// supported.
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/quant_ref.h"
#include "kernels/cpu/quantize_linear.h"
#include "ops/cpu/quant_params.h"
#include "ops/cpu/type_list.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

struct LinearQuantization {
  kernels::ChannelLayout layout;
  std::vector<float> scales;
  std::vector<int32_t> zero_points;
};

struct QuantizationAttributes {
  bool per_axis_allowed = false;  // opset 13 added per-axis scales and zero points
  int64_t axis = 1;
};

QuantizationAttributes read_quantization_attributes(const KernelInfo& info) {
  if (info.attr_int("block_size", 0) != 0)
    throw Error(ErrorCode::NotImplemented, "blocked quantization (block_size) is not supported");
  return {info.opset() >= 13, info.attr_int("axis", 1)};
}

// The quantization of x: per tensor when the scale is a single value, else along the axis.
LinearQuantization read_linear_quantization(const QuantizationAttributes& attributes, const Tensor& x,
                                            const Tensor& scale, const Tensor* zero_point, DType quantized_dtype,
                                            const char* scale_name, const char* zero_point_name) {
  LinearQuantization q;
  if (!is_per_tensor(scale)) {
    if (!attributes.per_axis_allowed)
      throw Error(ErrorCode::InvalidArgument, std::string(scale_name) + " of shape " + shape_to_string(scale.shape()) +
                                                  " is not a single value, which opsets before 13 require");
    const auto a = static_cast<size_t>(normalize_axis(attributes.axis, static_cast<int64_t>(x.rank())));
    q.layout.channels = x.dim(a);
    for (size_t d = a + 1; d < x.rank(); ++d) q.layout.inner *= x.dim(d);
  }
  q.scales = read_scales(scale, q.layout.channels, scale_name);
  q.zero_points = read_zero_points(zero_point, quantized_dtype, q.layout.channels, zero_point_name);
  return q;
}

// Runs fn(begin, end) over chunks of n elements in parallel.
void for_element_chunks(ThreadPool& pool, int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  pool.parallel_for(n, fn, kernels::kElementwiseGrain);
}

// Opset 21's output_dtype, or Undefined when it is absent or 0 (then the zero point decides).
DType read_output_dtype(const KernelInfo& info) {
  const int64_t value = info.attr_int("output_dtype", 0);
  if (value == 0) return DType::Undefined;
  if (value != static_cast<int64_t>(DType::UInt8) && value != static_cast<int64_t>(DType::Int8))
    throw Error(ErrorCode::NotImplemented, "output_dtype " + std::to_string(value) + " is not supported; only uint8 and int8 are");
  return static_cast<DType>(value);
}

class QuantizeLinearKernel final : public OpKernel {
 public:
  explicit QuantizeLinearKernel(const KernelInfo& info)
      : attributes_(read_quantization_attributes(info)), output_dtype_(read_output_dtype(info)), level_(info.cpu_level()) {}

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const Tensor* zero_point = ctx.has_input(2) ? &ctx.input(2) : nullptr;
    if (zero_point && output_dtype_ != DType::Undefined && zero_point->dtype() != output_dtype_)
      throw Error(ErrorCode::InvalidModel, std::string("y_zero_point of dtype ") + dtype_name(zero_point->dtype()) +
                                               " contradicts output_dtype " + dtype_name(output_dtype_));
    const DType y_dtype = zero_point ? zero_point->dtype() : output_dtype_ == DType::Undefined ? DType::UInt8 : output_dtype_;
    const LinearQuantization q =
        read_linear_quantization(attributes_, x, ctx.input(1), zero_point, y_dtype, "y_scale", "y_zero_point");
    TypeList<float, int32_t>::dispatch(x.dtype(), [&](auto in_tag) {
      QuantizedTypes::dispatch(y_dtype, [&](auto out_tag) {
        using In = typename decltype(in_tag)::type;
        using Q = typename decltype(out_tag)::type;
        const In* px = x.data<In>();
        Q* py = ctx.allocate_output(0, y_dtype, x.shape()).template data<Q>();
        for_element_chunks(ctx.pool(), x.numel(), [&](int64_t begin, int64_t end) {
          if constexpr (std::is_same_v<In, float>)
            if (q.layout.channels == 1)
              return kernels::quantize_per_tensor(level_, px + begin, py + begin, end - begin, q.scales[0], q.zero_points[0]);
          kernels::quantize_linear_ref(px, py, begin, end, q.layout, q.scales.data(), q.zero_points.data());
        });
      });
    });
  }

 private:
  QuantizationAttributes attributes_;
  DType output_dtype_;
  CpuLevel level_;
};
KILN_KERNEL(QuantizeLinearKernel, {.op = "QuantizeLinear", .since = 10, .types = {DType::Float32, DType::Int32}});

class DequantizeLinearKernel final : public OpKernel {
 public:
  explicit DequantizeLinearKernel(const KernelInfo& info)
      : attributes_(read_quantization_attributes(info)), level_(info.cpu_level()) {}

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const LinearQuantization q = read_linear_quantization(attributes_, x, ctx.input(1),
                                                          ctx.has_input(2) ? &ctx.input(2) : nullptr, x.dtype(),
                                                          "x_scale", "x_zero_point");
    QuantizedTypes::append<int32_t>::dispatch(x.dtype(), [&](auto tag) {
      using Q = typename decltype(tag)::type;
      const Q* px = x.data<Q>();
      float* py = ctx.allocate_output(0, DType::Float32, x.shape()).template data<float>();
      for_element_chunks(ctx.pool(), x.numel(), [&](int64_t begin, int64_t end) {
        if constexpr (!std::is_same_v<Q, int32_t>)
          if (q.layout.channels == 1)
            return kernels::dequantize_per_tensor(level_, px + begin, py + begin, end - begin, q.scales[0], q.zero_points[0]);
        kernels::dequantize_linear_ref(px, py, begin, end, q.layout, q.scales.data(), q.zero_points.data());
      });
    });
  }

 private:
  QuantizationAttributes attributes_;
  CpuLevel level_;
};
KILN_KERNEL(DequantizeLinearKernel,
            {.op = "DequantizeLinear", .since = 10, .types = {DType::UInt8, DType::Int8, DType::Int32}});

class DynamicQuantizeLinearKernel final : public OpKernel {
 public:
  explicit DynamicQuantizeLinearKernel(const KernelInfo& info) : level_(info.cpu_level()) {}

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const float* px = x.data<float>();
    const kernels::QuantParams params = kernels::dynamic_quant_params_uint8(level_, px, x.numel());
    uint8_t* py = ctx.allocate_output(0, DType::UInt8, x.shape()).data<uint8_t>();
    ctx.allocate_output(1, DType::Float32, {}).data<float>()[0] = params.scale;
    ctx.allocate_output(2, DType::UInt8, {}).data<uint8_t>()[0] = static_cast<uint8_t>(params.zero_point);
    for_element_chunks(ctx.pool(), x.numel(), [&](int64_t begin, int64_t end) {
      kernels::quantize_per_tensor(level_, px + begin, py + begin, end - begin, params.scale, params.zero_point);
    });
  }

 private:
  CpuLevel level_;
};
KILN_KERNEL(DynamicQuantizeLinearKernel, {.op = "DynamicQuantizeLinear", .since = 11, .types = {DType::Float32}});

}  // namespace
}  // namespace kiln::ops
