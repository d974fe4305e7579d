// kiln.QGemm, com.microsoft's QGemm (which FuseQdqProducts makes from a QDQ Gemm): Y = (A - a_zero)
// (B - b_zero) + C for uint8/int8 A [M, K] and a constant 8-bit B [K, N] (transB: [N, K]) with
// per-tensor or per-column parameters, C an int32 bias at scale a_scale * b_scale. With y_scale
// the sums are requantized to y_zero_point's type; without it, Y is float: (sums + C) * a_scale *
// b_scale. Inputs: A, a_scale, a_zero_point, B, b_scale, b_zero_point, C?, y_scale?, y_zero_point?
#include <string>
#include <vector>

#include "ops/cpu/quant_params.h"
#include "ops/cpu/quantized_matrix.h"
#include "ops/cpu/type_list.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

class QGemmKernel final : public OpKernel {
 public:
  explicit QGemmKernel(const KernelInfo& info)
      : level_(info.cpu_level()), b_(pack_constant_matrix(info, 3, 5, info.attr_int("transB", 0) != 0)) {
    if (info.attr_int("transA", 0) != 0 || info.attr_float("alpha", 1.f) != 1.f)
      throw Error(ErrorCode::NotImplemented, "QGemm with transA or alpha other than 1 is not supported");
    if (!b_) throw Error(ErrorCode::NotImplemented, "QGemm needs a constant 2-D 8-bit B with a constant zero point");
  }

  void compute(KernelContext& ctx) const override {
    const Tensor& a = ctx.input(0);
    const int64_t K = b_->rows(), N = b_->cols();
    if (a.rank() != 2 || a.dim(1) != K)
      throw Error(ErrorCode::InvalidArgument, "A must be [M, " + std::to_string(K) + "], got " + shape_to_string(a.shape()));
    const float a_scale = read_scales(ctx.input(1), 1, "a_scale")[0];
    const int32_t a_zero = read_zero_points(&ctx.input(2), a.dtype(), 1, "a_zero_point")[0];
    const Tensor& b_scale = ctx.input(4);
    const std::vector<float> b_scales = read_scales(b_scale, b_scale.numel() == 1 ? 1 : N, "b_scale");
    const Tensor* bias = ctx.has_input(6) ? &ctx.input(6) : nullptr;
    if (bias && (bias->dtype() != DType::Int32 || bias->numel() != N))
      throw Error(ErrorCode::InvalidModel, "C must be int32 [" + std::to_string(N) + "]");
    const int32_t* pbias = bias ? bias->data<int32_t>() : nullptr;
    const size_t channels = b_scales.size();
    std::vector<float> scales(channels);
    kernels::QGemmEpilogue e;
    e.ldc = N;
    const Shape shape{a.dim(0), N};
    std::vector<float> float_bias;
    if (ctx.has_input(7)) {
      const float y_scale = read_scales(ctx.input(7), 1, "y_scale")[0];
      const Tensor* y_zero_point = ctx.has_input(8) ? &ctx.input(8) : nullptr;
      const DType y_dtype = y_zero_point ? y_zero_point->dtype() : DType::UInt8;
      for (size_t j = 0; j < channels; ++j) scales[j] = a_scale * b_scales[j] / y_scale;
      e.requantize = {pbias, scales.data(), channels > 1 ? 1 : 0, read_zero_points(y_zero_point, y_dtype, 1, "y_zero_point")[0]};
      Tensor& y = ctx.allocate_output(0, y_dtype, shape);
      if (y_dtype == DType::Int8)
        e.c = y.data<int8_t>();
      else
        e.c = y.data<uint8_t>();
    } else {
      for (size_t j = 0; j < channels; ++j) scales[j] = a_scale * b_scales[j];
      if (pbias) {
        float_bias.resize(static_cast<size_t>(N));
        for (int64_t j = 0; j < N; ++j) float_bias[static_cast<size_t>(j)] = static_cast<float>(pbias[j]) * scales[channels > 1 ? static_cast<size_t>(j) : 0];
      }
      e.dequantize = {scales.data(), channels > 1 ? 1 : 0, pbias ? float_bias.data() : nullptr};
      e.c = ctx.allocate_output(0, DType::Float32, shape).data<float>();
    }
    const UnsignedRows rows = unsigned_rows(a, a_zero, unsigned_rows_scratch(a.numel()));
    kernels::qgemm(level_, a.dim(0), rows.data, K, rows.zero_point, *b_, e, &ctx.pool());
  }

 private:
  CpuLevel level_;
  std::optional<kernels::PackedQuantWeights> b_;
};
KILN_KERNEL(QGemmKernel, {.op = "QGemm", .domain = "kiln", .since = 1, .types = QuantizedTypes::dtypes()});

}  // namespace
}  // namespace kiln::ops
