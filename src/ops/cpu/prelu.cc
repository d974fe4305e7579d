// PRelu: y = x < 0 ? slope * x : x, where slope broadcasts onto x (unidirectionally: the output
// always has x's shape). Before opset 7 a 1-D slope of x's channel count applies per channel
// (along axis 1), as Caffe2 defined it.
#include "kernels/cpu/elementwise.h"
#include "ops/cpu/type_list.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

class PReluKernel final : public OpKernel {
 public:
  explicit PReluKernel(const KernelInfo& info) : per_channel_slope_(info.opset() < 7) {}

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const Tensor slope = per_channel_slope_ ? channel_aligned(ctx.input(1), x) : ctx.input(1);
    if (slope.dtype() != x.dtype())
      throw Error(ErrorCode::InvalidModel, std::string("slope is ") + dtype_name(slope.dtype()) + " but X is " +
                                               dtype_name(x.dtype()));
    if (kernels::broadcast_shapes(x.shape(), slope.shape()) != x.shape())
      throw Error(ErrorCode::InvalidArgument, "slope of shape " + shape_to_string(slope.shape()) +
                                                  " does not broadcast onto X of shape " + shape_to_string(x.shape()));
    Tensor& out = ctx.allocate_output(0, x.dtype(), x.shape());
    SignedTypes::dispatch(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      kernels::broadcast_map<T, T, T>(out, {&x, &slope}, [](T v, T s) { return v < T(0) ? s * v : v; });
    });
  }

 private:
  // A [C] slope viewed as [C, 1, ..., 1] so that it broadcasts along axis 1 of x.
  static Tensor channel_aligned(const Tensor& slope, const Tensor& x) {
    if (slope.rank() != 1 || slope.numel() == 1 || x.rank() < 2 || slope.dim(0) != x.dim(1)) return slope;
    Shape shape(x.rank() - 1, 1);
    shape[0] = slope.dim(0);
    return slope.reshaped(shape);
  }

  const bool per_channel_slope_;
};

KILN_KERNEL(PReluKernel, {.op = "PRelu", .since = 6, .types = SignedTypes::dtypes()});

}  // namespace
}  // namespace kiln::ops
