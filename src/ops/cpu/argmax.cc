// ArgMax and ArgMin: the int64 index of the extreme element along one axis.
#include <cstdint>

#include "kernels/cpu/reduce_ref.h"
#include "ops/cpu/dispatch.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

template <bool kFindMax>
class ArgReduceKernel final : public OpKernel {
 public:
  // select_last_index exists from opset 12; earlier models never carry it, so its default applies.
  explicit ArgReduceKernel(const KernelInfo& info)
      : axis_(info.attr_int("axis", 0)),
        keepdims_(info.attr_int("keepdims", 1) != 0),
        select_last_(info.attr_int("select_last_index", 0) != 0) {}

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const Shape& dims = x.shape();
    const auto axis = static_cast<size_t>(normalize_axis(axis_, static_cast<int64_t>(x.rank())));
    const int64_t n = dims[axis];
    if (n == 0) throw Error(ErrorCode::InvalidArgument, "cannot take the index of an extreme along an empty axis");
    const auto split = dims.begin() + static_cast<std::ptrdiff_t>(axis);
    const int64_t outer = shape_numel(Shape(dims.begin(), split)), inner = shape_numel(Shape(split + 1, dims.end()));
    Shape out_shape = dims;
    if (keepdims_) out_shape[axis] = 1;
    else out_shape.erase(out_shape.begin() + static_cast<std::ptrdiff_t>(axis));
    Tensor& y = ctx.allocate_output(0, DType::Int64, out_shape);
    dispatch_dtype<float, double, int32_t, int64_t>(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      kernels::compute_arg_reduce<T>(x.data<T>(), outer, n, inner, kFindMax, select_last_, y.data<int64_t>());
    });
  }

 private:
  int64_t axis_;
  bool keepdims_;
  bool select_last_;
};

using ArgMaxKernel = ArgReduceKernel<true>;
KILN_KERNEL(ArgMaxKernel, {.op = "ArgMax", .since = 1, .types = types::kNumeric});
using ArgMinKernel = ArgReduceKernel<false>;
KILN_KERNEL(ArgMinKernel, {.op = "ArgMin", .since = 1, .types = types::kNumeric});

}  // namespace
}  // namespace kiln::ops
