// GridSample, opset 16 to 19: 4-D inputs, modes bilinear, nearest and bicubic. (Opset 20 renamed the
// modes to linear and cubic and allowed N-D inputs.)
#include <string>

#include "kernels/cpu/grid_sample_ref.h"
#include "ops/cpu/parse_choice.h"
#include "ops/cpu/type_list.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

using kernels::GridSampleMode;
using kernels::GridSamplePadding;

class GridSampleKernel final : public OpKernel {
 public:
  explicit GridSampleKernel(const KernelInfo& info)
      : options_{parse_choice<GridSampleMode>(info, "mode", "bilinear",
                                              {{"bilinear", GridSampleMode::Bilinear},
                                               {"nearest", GridSampleMode::Nearest},
                                               {"bicubic", GridSampleMode::Bicubic}}),
                 parse_choice<GridSamplePadding>(info, "padding_mode", "zeros",
                                                 {{"zeros", GridSamplePadding::Zeros},
                                                  {"border", GridSamplePadding::Border},
                                                  {"reflection", GridSamplePadding::Reflection}}),
                 info.attr_int("align_corners", 0) != 0} {}

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const Tensor& grid = ctx.input(1);
    if (x.rank() != 4)
      throw Error(ErrorCode::InvalidArgument, "X must be 4-D [N, C, H, W], got " + shape_to_string(x.shape()));
    const int64_t batch = x.dim(0), channels = x.dim(1);
    if (grid.rank() != 4 || grid.dim(0) != batch || grid.dim(3) != 2)
      throw Error(ErrorCode::InvalidArgument, "grid must be [" + std::to_string(batch) + ", H_out, W_out, 2] for X " +
                                                  shape_to_string(x.shape()) + ", got " + shape_to_string(grid.shape()));
    if (grid.dtype() != x.dtype())
      throw Error(ErrorCode::NotImplemented, std::string("grid of dtype ") + dtype_name(grid.dtype()) +
                                                 " with X of dtype " + dtype_name(x.dtype()) +
                                                 " is not supported: they must match");
    const int64_t out_h = grid.dim(1), out_w = grid.dim(2);
    Tensor& y = ctx.allocate_output(0, x.dtype(), {batch, channels, out_h, out_w});
    FloatTypes::dispatch(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      kernels::compute_grid_sample<T>(x.data<T>(), grid.data<T>(), y.data<T>(), batch, channels, x.dim(2), x.dim(3),
                                      out_h, out_w, options_, ctx.pool());
    });
  }

 private:
  kernels::GridSampleOptions options_;
};

KILN_KERNEL(GridSampleKernel, {.op = "GridSample", .since = 16, .until = 19, .types = FloatTypes::dtypes()});

}  // namespace
}  // namespace kiln::ops
