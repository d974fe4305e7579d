// OneHot: output[..., i, ...] = on where i equals the index (negative counts from depth), off
// elsewhere; the new depth axis goes at `axis`. The output takes the values' dtype, moved as bytes.
#include <algorithm>

#include "kernels/cpu/element_bytes.h"
#include "ops/cpu/shape_args.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

class OneHotKernel final : public OpKernel {
 public:
  explicit OneHotKernel(const KernelInfo& info) : axis_(info.attr_int("axis", -1)) {}
  void compute(KernelContext& ctx) const override {
    const Tensor& indices = ctx.input(0);
    const Tensor& depth_input = ctx.input(1);
    const Tensor& values = ctx.input(2);
    if (depth_input.numel() != 1) throw Error(ErrorCode::InvalidArgument, "depth must be a scalar");
    if (values.numel() != 2) throw Error(ErrorCode::InvalidArgument, "values must hold [off_value, on_value]");
    // Depth and indices may be of any numeric dtype; the spec casts them to integers.
    const double depth_value = depth_input.value_as_double(0);
    // The range check comes before the cast: NaN or a value beyond int64 has no integer to become.
    if (!(depth_value >= 1 && depth_value < 0x1p62))
      throw Error(ErrorCode::InvalidArgument, "depth must be positive, got " + std::to_string(depth_value));
    const int64_t depth = static_cast<int64_t>(depth_value);
    const size_t axis = static_cast<size_t>(normalize_axis(axis_, static_cast<int64_t>(indices.rank()) + 1));
    const Shape& s = indices.shape();
    Shape out_shape = s;
    out_shape.insert(out_shape.begin() + static_cast<std::ptrdiff_t>(axis), depth);
    const int64_t outer = dims_numel(s, 0, axis);
    const int64_t inner = dims_numel(s, axis, s.size());
    Tensor& out = ctx.allocate_output(0, values.dtype(), out_shape);
    kernels::dispatch_element_size(dtype_size(values.dtype()), [&](auto tag) {
      using E = typename decltype(tag)::type;
      const E off = static_cast<const E*>(values.raw())[0], on = static_cast<const E*>(values.raw())[1];
      E* y = static_cast<E*>(out.raw());
      std::fill(y, y + out.numel(), off);
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          int64_t index = indices.value_as_int64(o * inner + i);
          if (index < 0) index += depth;
          // Indices outside [-depth, depth) leave their row all off, as the spec says.
          if (index >= 0 && index < depth) y[(o * depth + index) * inner + i] = on;
        }
    });
  }

 private:
  int64_t axis_;
};
KILN_KERNEL(OneHotKernel, {.op = "OneHot", .since = 9});

}  // namespace
}  // namespace kiln::ops
