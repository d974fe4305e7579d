// Gemm: Y = alpha * op(A) * op(B) + beta * C, with op() an optional transpose and C broadcast
// unidirectionally to [M, N]. Opset 6 allowed a C of another shape only with broadcast=1; from
// opset 7 C always broadcasts, and from opset 11 it is optional. kiln.FusedGemm adds a fused
// activation. A constant B (weights) is packed once for the packed SGEMM, and a constant C that is
// one value per column becomes the GEMM epilogue's bias; any other C is written into Y first and
// accumulated onto.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/cpu/broadcast.h"
#include "kernels/cpu/sgemm.h"
#include "ops/cpu/fused_activation.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

class GemmKernel final : public OpKernel {
 public:
  explicit GemmKernel(const KernelInfo& info)
      : trans_a_(info.attr_int("transA", 0) != 0),
        trans_b_(info.attr_int("transB", 0) != 0),
        alpha_(info.attr_float("alpha", 1.f)),
        beta_(info.attr_float("beta", 1.f)),
        c_must_match_(info.node().domain.empty() && info.opset() < 7 && info.attr_int("broadcast", 0) == 0),
        level_(info.cpu_level()),
        activation_(read_fused_activation(info)) {
    const Tensor* b = info.constant_input(1);
    if (b && b->dtype() == DType::Float32 && b->rank() == 2) {
      const int64_t K = trans_b_ ? b->dim(1) : b->dim(0), N = trans_b_ ? b->dim(0) : b->dim(1);
      packed_b_ = kernels::PackedMatrix::pack_b(level_, K, N, kernels::MatrixView{b->data<float>(), b->dim(1), trans_b_},
                                                info.weights());
    }
    const Tensor* c = info.constant_input(2);
    if (c && c->dtype() == DType::Float32 && c->numel() > 1 && (c->rank() == 1 || (c->rank() == 2 && c->dim(0) == 1))) {
      column_bias_.assign(c->data<float>(), c->data<float>() + c->numel());
      for (float& v : column_bias_) v *= beta_;
    }
  }

  bool reads_constant_data(size_t input) const override { return !(input == 1 && packed_b_.rows() > 0); }

  void compute(KernelContext& ctx) const override {
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    if (a.rank() != 2 || b.rank() != 2)
      throw Error(ErrorCode::InvalidArgument, "A and B must be 2-D, got A " + shape_to_string(a.shape()) + " and B " +
                                                  shape_to_string(b.shape()));
    const int64_t M = trans_a_ ? a.dim(1) : a.dim(0);
    const int64_t K = trans_a_ ? a.dim(0) : a.dim(1);
    const int64_t N = trans_b_ ? b.dim(0) : b.dim(1);
    if ((trans_b_ ? b.dim(1) : b.dim(0)) != K)
      throw Error(ErrorCode::InvalidArgument, "inner dimensions differ: A " + shape_to_string(a.shape()) +
                                                  (trans_a_ ? " (transposed)" : "") + " and B " +
                                                  shape_to_string(b.shape()) + (trans_b_ ? " (transposed)" : ""));
    Tensor& y = ctx.allocate_output(0, DType::Float32, {M, N});
    float* py = y.data<float>();
    kernels::GemmEpilogue epilogue;
    epilogue.alpha = alpha_;
    epilogue.activation = activation_;
    if (!column_bias_.empty() && static_cast<int64_t>(column_bias_.size()) == N) {
      epilogue.col_bias = column_bias_.data();
    } else if (ctx.has_input(2)) {
      fill_with_scaled_c(ctx.input(2), {M, N}, py);
      epilogue.accumulate = true;
    }
    const kernels::MatrixView a_view{a.data<float>(), a.dim(1), trans_a_};
    if (packed_b_.rows() == K && packed_b_.cols() == N)
      kernels::sgemm(level_, M, N, K, a_view, &packed_b_, py, N, epilogue, &ctx.pool());
    else
      kernels::sgemm(level_, M, N, K, a_view, kernels::MatrixView{b.data<float>(), b.dim(1), trans_b_}, py, N, epilogue,
                     &ctx.pool());
  }

 private:
  void fill_with_scaled_c(const Tensor& c, const Shape& out, float* py) const {
    if (!kernels::broadcasts_to(c.shape(), out) || (c_must_match_ && c.shape() != out))
      throw Error(ErrorCode::InvalidArgument, "C " + shape_to_string(c.shape()) + " cannot be broadcast to " +
                                                  shape_to_string(out));
    const std::vector<int64_t> strides[1] = {kernels::broadcast_strides(c.shape(), out)};
    const float* pc = c.data<float>();
    kernels::for_each_broadcast(out, strides, [&](int64_t i, const int64_t* o) { py[i] = beta_ * pc[o[0]]; });
  }

  bool trans_a_, trans_b_;
  float alpha_, beta_;
  bool c_must_match_;
  CpuLevel level_;
  kernels::Activation activation_;
  kernels::PackedMatrix packed_b_;
  std::vector<float> column_bias_;  // beta * C when C is a constant row of N values
};
KILN_KERNEL(GemmKernel, {.op = "Gemm", .since = 6, .types = types::kFloat});
KILN_KERNEL(GemmKernel, {.op = "FusedGemm", .domain = "kiln", .since = 1, .types = types::kFloat});

}  // namespace
}  // namespace kiln::ops
