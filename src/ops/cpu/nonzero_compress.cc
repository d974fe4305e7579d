// Ops whose output size depends on the data: NonZero (coordinates of the non-zero elements) and
// Compress (the slices a boolean condition selects, a Gather with the selected indices).
#include <optional>

#include "kernels/cpu/gather_scatter_ref.h"
#include "ops/cpu/shape_args.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

// Flat positions of the non-zero elements (NaN counts as non-zero).
std::vector<int64_t> nonzero_positions(const Tensor& x) {
  std::vector<int64_t> positions;
  dispatch_dtype<float, double, int8_t, uint8_t, int16_t, uint16_t, int32_t, uint32_t, int64_t, uint64_t, bool>(
      x.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        const T* data = x.data<T>();
        for (int64_t i = 0; i < x.numel(); ++i)
          if (data[i] != T{}) positions.push_back(i);
      });
  return positions;
}

// The output is [rank, count]: row d holds the d-th coordinate of each non-zero element, in
// row-major order. A scalar counts as a 1-element vector, as numpy's nonzero does.
class NonZeroKernel final : public OpKernel {
 public:
  explicit NonZeroKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const Shape shape = x.rank() == 0 ? Shape{1} : x.shape();
    const std::vector<int64_t> positions = nonzero_positions(x);
    const int64_t count = static_cast<int64_t>(positions.size());
    int64_t* out = ctx.allocate_output(0, DType::Int64, {static_cast<int64_t>(shape.size()), count}).data<int64_t>();
    for (int64_t i = 0; i < count; ++i) {
      int64_t rest = positions[static_cast<size_t>(i)];
      for (size_t d = shape.size(); d-- > 0;) {
        out[static_cast<int64_t>(d) * count + i] = rest % shape[d];
        rest /= shape[d];
      }
    }
  }
};
KILN_KERNEL(NonZeroKernel, {.op = "NonZero", .since = 9});

// Without an axis the input is flattened first. A condition shorter than the axis selects nothing
// past its end.
class CompressKernel final : public OpKernel {
 public:
  explicit CompressKernel(const KernelInfo& info)
      : axis_(info.has_attr("axis") ? std::optional(info.attr_int("axis")) : std::nullopt) {}
  void compute(KernelContext& ctx) const override {
    const Tensor& input = ctx.input(0);
    const Tensor& condition = ctx.input(1);
    if (condition.dtype() != DType::Bool || condition.rank() != 1)
      throw Error(ErrorCode::InvalidModel, "condition must be a 1-D bool tensor, got " +
                                               std::string(dtype_name(condition.dtype())) + " " +
                                               shape_to_string(condition.shape()));
    const Tensor x = axis_ ? input : input.reshaped({input.numel()});
    const size_t axis = static_cast<size_t>(normalize_axis(axis_.value_or(0), static_cast<int64_t>(x.rank())));
    const Shape& s = x.shape();
    if (condition.numel() > s[axis])
      throw Error(ErrorCode::InvalidArgument, "condition has " + std::to_string(condition.numel()) +
                                                  " entries for an axis of size " + std::to_string(s[axis]));
    std::vector<int64_t> selected;
    for (int64_t i = 0; i < condition.numel(); ++i)
      if (condition.data<bool>()[i]) selected.push_back(i);
    const int64_t outer = dims_numel(s, 0, axis);
    const int64_t inner = dims_numel(s, axis + 1, s.size());
    Shape out_shape = s;
    out_shape[axis] = static_cast<int64_t>(selected.size());
    Tensor& out = ctx.allocate_output(0, x.dtype(), out_shape);
    kernels::gather_blocks(out.raw(), x.raw(), dtype_size(x.dtype()),
                           kernels::gather_offsets(outer, s[axis], inner, selected), inner, ctx.pool());
  }

 private:
  std::optional<int64_t> axis_;
};
KILN_KERNEL(CompressKernel, {.op = "Compress", .since = 9});

}  // namespace
}  // namespace kiln::ops
