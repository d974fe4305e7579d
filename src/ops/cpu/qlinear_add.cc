// kiln.QLinearAdd (com.microsoft's QLinearAdd, which FuseQdqAdd makes from DQ(a) + DQ(b) -> Q):
// C = Q(DQ(A) + DQ(B)) for 8-bit A and B quantized per tensor, B of A's shape or a suffix of it, in
// ONNX Runtime's arithmetic (kernels/cpu/qlinear_add.h): within one step of the unfused nodes,
// equal to ONNX Runtime's. Inputs: A, A_scale, A_zero_point, B, B_scale, B_zero_point, C_scale,
// C_zero_point.
#include <algorithm>
#include <string>

#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/qlinear_add.h"
#include "ops/cpu/quant_params.h"
#include "ops/cpu/type_list.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

constexpr int64_t kBlock = 256;

class QLinearAddKernel final : public OpKernel {
 public:
  explicit QLinearAddKernel(const KernelInfo& info) : level_(info.cpu_level()) {}

  void compute(KernelContext& ctx) const override {
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(3);
    const Shape& as = a.shape();
    const Shape& bs = b.shape();
    const bool suffix = bs.size() <= as.size() && std::equal(bs.begin(), bs.end(), as.end() - static_cast<std::ptrdiff_t>(bs.size()));
    if (!suffix || a.dtype() != b.dtype() || b.numel() == 0)
      throw Error(ErrorCode::InvalidArgument, "QLinearAdd needs B of A's dtype with A's shape or a suffix of it; got A " +
                                                  shape_to_string(as) + ", B " + shape_to_string(bs));
    const float a_scale = read_scales(ctx.input(1), 1, "A_scale")[0], b_scale = read_scales(ctx.input(4), 1, "B_scale")[0];
    const float c_scale = read_scales(ctx.input(6), 1, "C_scale")[0];
    const int32_t a_zero = read_zero_points(&ctx.input(2), a.dtype(), 1, "A_zero_point")[0];
    const int32_t b_zero = read_zero_points(&ctx.input(5), b.dtype(), 1, "B_zero_point")[0];
    const Tensor& c_zero_point = ctx.input(7);
    const int32_t c_zero = read_zero_points(&c_zero_point, c_zero_point.dtype(), 1, "C_zero_point")[0];
    const int64_t inner = b.numel();
    const kernels::QLinearAddParams params = kernels::qlinear_add_params(a_scale, a_zero, b_scale, b_zero, c_scale, c_zero);
    if (c_zero_point.dtype() != a.dtype())
      throw Error(ErrorCode::NotImplemented, "QLinearAdd with C of another dtype than A and B is not supported");
    QuantizedTypes::dispatch(a.dtype(), [&](auto tag) {
      using Q = typename decltype(tag)::type;
      const Q* pa = a.data<Q>();
      const Q* pb = b.data<Q>();
      Q* pc = ctx.allocate_output(0, a.dtype(), as).template data<Q>();
      // A short B (a small bias) repeated once, so that the block starting at element i reads its
      // values at pattern + i % inner.
      Q pattern[2 * kBlock];
      if (inner > 1 && inner < kBlock)
        for (int64_t k = 0; k < kBlock + inner; ++k) pattern[k] = pb[k % inner];
      ctx.pool().parallel_for(a.numel(), [&](int64_t begin, int64_t end) {
        if (inner == 1) return kernels::qlinear_add(level_, pa + begin, pb, true, end - begin, params, pc + begin);
        for (int64_t i = begin; i < end;) {
          // A block that does not cross B's end, so that a long B is read contiguously.
          int64_t count = std::min(kBlock, end - i);
          if (inner >= kBlock) count = std::min(end - i, inner - i % inner);
          const Q* run_b = inner >= kBlock ? pb + i % inner : pattern + i % inner;
          kernels::qlinear_add(level_, pa + i, run_b, false, count, params, pc + i);
          i += count;
        }
      }, kernels::kElementwiseGrain);
    });
  }

 private:
  CpuLevel level_;
};
KILN_KERNEL(QLinearAddKernel, {.op = "QLinearAdd", .domain = "kiln", .since = 1, .types = QuantizedTypes::dtypes()});

}  // namespace
}  // namespace kiln::ops
