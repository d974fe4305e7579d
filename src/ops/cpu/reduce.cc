// The Reduce* family: one kernel template over the reduction kind, one registration line per op.
// The axes are an attribute until opset 13 (ReduceSum) or 18 (the others), then an optional input,
// with noop_with_empty_axes saying what an empty axes list means: every axis (0) or none (1).
#include <algorithm>
#include <cstdint>

#include "kernels/cpu/reduce_ref.h"
#include "ops/cpu/dispatch.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

using kernels::ReduceKind;

template <ReduceKind kKind, int64_t kAxesInputSince>
class ReduceKernel final : public OpKernel {
 public:
  explicit ReduceKernel(const KernelInfo& info)
      : keepdims_(info.attr_int("keepdims", 1) != 0),
        axes_from_input_(info.opset() >= kAxesInputSince),
        noop_with_empty_axes_(axes_from_input_ && info.attr_int("noop_with_empty_axes", 0) != 0),
        attribute_axes_(axes_from_input_ ? std::vector<int64_t>{} : info.attr_ints("axes", {})) {}

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const std::vector<int64_t> axes = reduced_axes(ctx, static_cast<int64_t>(x.rank()));
    Shape out_shape;
    for (size_t a = 0; a < x.rank(); ++a) {
      const bool reduced = std::binary_search(axes.begin(), axes.end(), static_cast<int64_t>(a));
      if (!reduced) out_shape.push_back(x.dim(a));
      else if (keepdims_) out_shape.push_back(1);
    }
    Tensor& y = ctx.allocate_output(0, x.dtype(), out_shape);
    dispatch_dtype<float, double, int32_t, int64_t>(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      kernels::compute_reduce<T>(kKind, x.data<T>(), x.shape(), axes, y.data<T>(), ctx.pool());
    });
  }

 private:
  // The normalized, sorted axes to reduce.
  std::vector<int64_t> reduced_axes(const KernelContext& ctx, int64_t rank) const {
    std::vector<int64_t> axes = attribute_axes_;
    if (axes_from_input_ && ctx.has_input(1)) {
      const Tensor& given = ctx.input(1);
      if (given.dtype() != DType::Int64)
        throw Error(ErrorCode::InvalidModel, std::string("axes must be int64, got ") + dtype_name(given.dtype()));
      axes = given.to_int64_vector();
    }
    if (axes.empty() && !noop_with_empty_axes_)
      for (int64_t a = 0; a < rank; ++a) axes.push_back(a);
    for (int64_t& a : axes) a = normalize_axis(a, rank);
    std::sort(axes.begin(), axes.end());
    const auto repeated = std::adjacent_find(axes.begin(), axes.end());
    if (repeated != axes.end())
      throw Error(ErrorCode::InvalidModel, "axes lists axis " + std::to_string(*repeated) + " more than once");
    return axes;
  }

  bool keepdims_;
  bool axes_from_input_;
  bool noop_with_empty_axes_;
  std::vector<int64_t> attribute_axes_;
};

using ReduceSumKernel = ReduceKernel<ReduceKind::Sum, 13>;
KILN_KERNEL(ReduceSumKernel, {.op = "ReduceSum", .since = 1, .types = types::kNumeric});
using ReduceMeanKernel = ReduceKernel<ReduceKind::Mean, 18>;
KILN_KERNEL(ReduceMeanKernel, {.op = "ReduceMean", .since = 1, .types = types::kNumeric});
using ReduceMaxKernel = ReduceKernel<ReduceKind::Max, 18>;
KILN_KERNEL(ReduceMaxKernel, {.op = "ReduceMax", .since = 1, .types = types::kNumeric});
using ReduceMinKernel = ReduceKernel<ReduceKind::Min, 18>;
KILN_KERNEL(ReduceMinKernel, {.op = "ReduceMin", .since = 1, .types = types::kNumeric});
using ReduceProdKernel = ReduceKernel<ReduceKind::Prod, 18>;
KILN_KERNEL(ReduceProdKernel, {.op = "ReduceProd", .since = 1, .types = types::kNumeric});
using ReduceL1Kernel = ReduceKernel<ReduceKind::L1, 18>;
KILN_KERNEL(ReduceL1Kernel, {.op = "ReduceL1", .since = 1, .types = types::kNumeric});
using ReduceL2Kernel = ReduceKernel<ReduceKind::L2, 18>;
KILN_KERNEL(ReduceL2Kernel, {.op = "ReduceL2", .since = 1, .types = types::kNumeric});
using ReduceLogSumKernel = ReduceKernel<ReduceKind::LogSum, 18>;
KILN_KERNEL(ReduceLogSumKernel, {.op = "ReduceLogSum", .since = 1, .types = types::kNumeric});
using ReduceLogSumExpKernel = ReduceKernel<ReduceKind::LogSumExp, 18>;
KILN_KERNEL(ReduceLogSumExpKernel, {.op = "ReduceLogSumExp", .since = 1, .types = types::kNumeric});
using ReduceSumSquareKernel = ReduceKernel<ReduceKind::SumSquare, 18>;
KILN_KERNEL(ReduceSumSquareKernel, {.op = "ReduceSumSquare", .since = 1, .types = types::kNumeric});

}  // namespace
}  // namespace kiln::ops
