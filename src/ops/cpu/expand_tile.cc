// Expand (broadcast to a shape) and Tile (repeat along each axis): both read the input through a
// per-axis coordinate map, so both are one strided copy.
#include <algorithm>

#include "kernels/cpu/broadcast.h"
#include "kernels/cpu/strided_copy.h"
#include "ops/cpu/shape_args.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

// Allocating before build_sources() runs rejects an oversized output before its index maps are built.
template <class BuildSources>
void copy_into_output(KernelContext& ctx, const Tensor& x, const Shape& out_shape, BuildSources&& build_sources) {
  Tensor& out = ctx.allocate_output(0, x.dtype(), out_shape);
  kernels::strided_copy(out.raw(), x.raw(), dtype_size(x.dtype()), build_sources(), nullptr, ctx.pool());
}

// Broadcasting is bidirectional: a 1 in the target shape keeps the input's dim.
class ExpandKernel final : public OpKernel {
 public:
  explicit ExpandKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const Shape target = int_list(ctx.input(1), "shape");
    if (std::any_of(target.begin(), target.end(), [](int64_t d) { return d < 0; }))
      throw Error(ErrorCode::InvalidArgument, "shape " + shape_to_string(target) + " has a negative dim");
    const Shape out_shape = kernels::broadcast_shapes(x.shape(), target);
    const std::vector<int64_t> strides = kernels::broadcast_strides(x.shape(), out_shape);
    copy_into_output(ctx, x, out_shape, [&] {
      std::vector<kernels::AxisSource> sources;
      for (size_t d = 0; d < out_shape.size(); ++d) sources.push_back(kernels::identity_axis(out_shape[d], strides[d]));
      return sources;
    });
  }
};
KILN_KERNEL(ExpandKernel, {.op = "Expand", .since = 8});

class TileKernel final : public OpKernel {
 public:
  explicit TileKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const std::vector<int64_t> repeats = int_list(ctx.input(1), "repeats");
    if (repeats.size() != x.rank())
      throw Error(ErrorCode::InvalidArgument, "repeats " + shape_to_string(repeats) +
                                                  " must have one entry per axis of " + shape_to_string(x.shape()));
    Shape out_shape;
    for (size_t d = 0; d < x.rank(); ++d) {
      if (repeats[d] < 0)
        throw Error(ErrorCode::InvalidArgument, "repeats must not be negative: " + shape_to_string(repeats));
      out_shape.push_back(checked_dim_mul(x.dim(d), repeats[d]));
    }
    const std::vector<int64_t> strides = kernels::dense_strides(x.shape());
    copy_into_output(ctx, x, out_shape, [&] {
      std::vector<kernels::AxisSource> sources;
      for (size_t d = 0; d < x.rank(); ++d) {
        kernels::AxisSource axis{strides[d], std::vector<int64_t>(static_cast<size_t>(out_shape[d]))};
        for (size_t i = 0; i < axis.source.size(); ++i) axis.source[i] = static_cast<int64_t>(i) % x.dim(d);
        sources.push_back(std::move(axis));
      }
      return sources;
    });
  }
};
KILN_KERNEL(TileKernel, {.op = "Tile", .since = 6});

}  // namespace
}  // namespace kiln::ops
