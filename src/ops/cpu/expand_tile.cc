// Expand (broadcast to a shape) and Tile (repeat along each axis): both read the input through a
// per-axis coordinate map, so both are one strided copy.
#include "kernels/cpu/broadcast.h"
#include "kernels/cpu/strided_copy.h"
#include "ops/cpu/shape_args.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

void copy_from(const Tensor& x, const std::vector<kernels::AxisSource>& sources, KernelContext& ctx) {
  Tensor& out = ctx.allocate_output(0, x.dtype(), kernels::output_shape(sources));
  kernels::strided_copy(out.raw(), x.raw(), dtype_size(x.dtype()), sources, nullptr, ctx.pool());
}

// Broadcasting is bidirectional: a 1 in the target shape keeps the input's dim.
class ExpandKernel final : public OpKernel {
 public:
  explicit ExpandKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const Shape out_shape = kernels::broadcast_shapes(x.shape(), int_list(ctx.input(1), "shape"));
    const std::vector<int64_t> strides = kernels::broadcast_strides(x.shape(), out_shape);
    std::vector<kernels::AxisSource> sources;
    for (size_t d = 0; d < out_shape.size(); ++d) sources.push_back(kernels::identity_axis(out_shape[d], strides[d]));
    copy_from(x, sources, ctx);
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
    const std::vector<int64_t> strides = kernels::dense_strides(x.shape());
    std::vector<kernels::AxisSource> sources;
    for (size_t d = 0; d < x.rank(); ++d) {
      if (repeats[d] < 0)
        throw Error(ErrorCode::InvalidArgument, "repeats must not be negative: " + shape_to_string(repeats));
      const int64_t dim = x.dim(d);
      kernels::AxisSource axis{strides[d], std::vector<int64_t>(static_cast<size_t>(dim * repeats[d]))};
      for (size_t i = 0; i < axis.source.size(); ++i) axis.source[i] = static_cast<int64_t>(i) % dim;
      sources.push_back(std::move(axis));
    }
    copy_from(x, sources, ctx);
  }
};
KILN_KERNEL(TileKernel, {.op = "Tile", .since = 6});

}  // namespace
}  // namespace kiln::ops
