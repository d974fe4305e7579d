// kiln.QLinearAdd (com.microsoft's QLinearAdd, which FuseQdqAdd makes from DQ(a) + DQ(b) -> Q):
// C = Q(DQ(A) + DQ(B)) for 8-bit A and B quantized per tensor, B of A's shape or a suffix of it.
// Computed as the unfused nodes do (dequantize each to float, add, quantize), a block at a time in
// registers-sized buffers, so that fusing changes no value. Inputs: A, A_scale, A_zero_point, B,
// B_scale, B_zero_point, C_scale, C_zero_point.
#include <algorithm>
#include <string>

#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/quantize_linear.h"
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
    QuantizedTypes::dispatch(a.dtype(), [&](auto in_tag) {
      QuantizedTypes::dispatch(c_zero_point.dtype(), [&](auto out_tag) {
        using In = typename decltype(in_tag)::type;
        using Out = typename decltype(out_tag)::type;
        const In* pa = a.data<In>();
        const In* pb = b.data<In>();
        Out* pc = ctx.allocate_output(0, c_zero_point.dtype(), as).template data<Out>();
        // A B shorter than a block (a scalar, a small bias) is dequantized once and repeated, so
        // that the block starting at element i reads its values at pattern + i % inner.
        float pattern[2 * kBlock];
        if (inner < kBlock) {
          kernels::dequantize_per_tensor(level_, pb, pattern, inner, b_scale, b_zero);
          for (int64_t k = inner; k < kBlock + inner; ++k) pattern[k] = pattern[k - inner];
        }
        ctx.pool().parallel_for(a.numel(), [&](int64_t begin, int64_t end) {
          float fa[kBlock], long_b[kBlock];
          for (int64_t i = begin; i < end;) {
            // A block that does not cross B's end, so that a long B is read contiguously.
            int64_t count = std::min(kBlock, end - i);
            if (inner >= kBlock) count = std::min(count, inner - i % inner);
            kernels::dequantize_per_tensor(level_, pa + i, fa, count, a_scale, a_zero);
            const float* fb = pattern + i % inner;
            if (inner >= kBlock) {
              kernels::dequantize_per_tensor(level_, pb + i % inner, long_b, count, b_scale, b_zero);
              fb = long_b;
            }
            for (int64_t k = 0; k < count; ++k) fa[k] += fb[k];
            kernels::quantize_per_tensor(level_, fa, pc + i, count, c_scale, c_zero);
            i += count;
          }
        }, kernels::kElementwiseGrain);
      });
    });
  }

 private:
  CpuLevel level_;
};
KILN_KERNEL(QLinearAddKernel, {.op = "QLinearAdd", .domain = "kiln", .since = 1, .types = QuantizedTypes::dtypes()});

}  // namespace
}  // namespace kiln::ops
