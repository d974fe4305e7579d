// Gemm: Y = alpha * op(A) * op(B) + beta * C, with op() an optional transpose and C broadcast
// unidirectionally to [M, N]. Opset 6 allowed a C of another shape only with broadcast=1; from
// opset 7 C always broadcasts, and from opset 11 it is optional.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/cpu/broadcast.h"
#include "kernels/cpu/gemm_ref.h"
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
        c_must_match_(info.opset() < 7 && info.attr_int("broadcast", 0) == 0) {}

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
    if (ctx.has_input(2)) {
      fill_with_scaled_c(ctx.input(2), {M, N}, py);
    } else {
      std::fill(py, py + M * N, 0.f);
    }
    const float* pa = a.data<float>();
    const float* pb = b.data<float>();
    const int64_t lda = a.dim(1), ldb = b.dim(1);
    // Rows of op(A) start at column r of a transposed A, at row r of a plain one.
    const int64_t a_row_step = trans_a_ ? 1 : lda;
    const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(N * K, 1));
    ctx.pool().parallel_for(
        M,
        [&](int64_t begin, int64_t end) {
          kernels::gemm_ref(trans_a_, trans_b_, end - begin, N, K, alpha_, pa + begin * a_row_step, lda, pb, ldb, 1.f,
                            py + begin * N, N);
        },
        grain);
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
};
KILN_KERNEL(GemmKernel, {.op = "Gemm", .since = 6, .types = types::kFloat});

}  // namespace
}  // namespace kiln::ops
