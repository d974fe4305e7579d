// CumSum: the axis is an input (a scalar); exclusive and reverse are attributes.
#include "kernels/cpu/cumsum_ref.h"
#include "ops/cpu/shape_args.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

class CumSumKernel final : public OpKernel {
 public:
  explicit CumSumKernel(const KernelInfo& info)
      : exclusive_(info.attr_int("exclusive", 0) != 0), reverse_(info.attr_int("reverse", 0) != 0) {}
  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const std::vector<int64_t> axis_value = int_list(ctx.input(1), "axis");
    if (axis_value.size() != 1) throw Error(ErrorCode::InvalidArgument, "axis must be a scalar");
    const size_t axis = static_cast<size_t>(normalize_axis(axis_value[0], static_cast<int64_t>(x.rank())));
    const Shape& s = x.shape();
    const int64_t outer = dims_numel(s, 0, axis);
    const int64_t inner = dims_numel(s, axis + 1, s.size());
    dispatch_dtype<float, double, int32_t, int64_t, uint32_t, uint64_t>(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      Tensor& y = ctx.allocate_output(0, x.dtype(), s);
      kernels::compute_cumsum(x.data<T>(), y.data<T>(), outer, s[axis], inner, exclusive_, reverse_);
    });
  }

 private:
  bool exclusive_, reverse_;
};
KILN_KERNEL(CumSumKernel,
            {.op = "CumSum",
             .since = 11,
             .types = {DType::Float32, DType::Float64, DType::Int32, DType::Int64, DType::UInt32, DType::UInt64}});

}  // namespace
}  // namespace kiln::ops
