// Ops that pass their input through unchanged at inference: Identity, and Dropout, which only
// drops elements in training mode. The output shares the input's buffer.
#include <cstring>

#include "ops/cpu/cast.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

class IdentityKernel final : public OpKernel {
 public:
  explicit IdentityKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) const override { ctx.set_output(0, ctx.input(0)); }
};

// Opsets 7-11 take the ratio as an attribute and are always inference. From 12 the ratio and
// training_mode are optional inputs; training with a nonzero ratio needs random masks and is not
// supported. The optional mask output is all true: nothing was dropped. Before opset 10 the mask
// has the input's dtype, from 10 on it is bool.
class DropoutKernel final : public OpKernel {
 public:
  explicit DropoutKernel(const KernelInfo& info) : opset_(info.opset()) {}

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    if (opset_ >= 12 && drops_elements(ctx))
      throw Error(ErrorCode::NotImplemented, "training mode with a nonzero ratio is not supported");
    ctx.set_output(0, x);
    if (ctx.output_count() < 2) return;
    Tensor mask(DType::Bool, x.shape());
    std::memset(mask.raw(), 1, mask.nbytes());
    ctx.set_output(1, opset_ < 10 ? cast_tensor(mask, x.dtype(), ctx.pool()) : mask);
  }

 private:
  // True when training_mode is set and the ratio is nonzero.
  static bool drops_elements(const KernelContext& ctx) {
    if (!ctx.has_input(2)) return false;
    const Tensor& mode = ctx.input(2);
    if (mode.dtype() != DType::Bool || mode.numel() != 1)
      throw Error(ErrorCode::InvalidModel, "training_mode must be a bool scalar");
    if (!mode.data<bool>()[0]) return false;
    if (!ctx.has_input(1)) return true;  // the default ratio is 0.5
    const Tensor& ratio = ctx.input(1);
    if (ratio.numel() != 1) throw Error(ErrorCode::InvalidModel, "ratio must be a scalar");
    return ratio.value_as_double(0) != 0.0;
  }

  const int64_t opset_;
};

KILN_KERNEL(IdentityKernel, {.op = "Identity", .since = 1});
KILN_KERNEL(DropoutKernel, {.op = "Dropout", .since = 7});

}  // namespace
}  // namespace kiln::ops
