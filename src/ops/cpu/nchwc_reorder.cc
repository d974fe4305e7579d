// kiln.NchwcReorderInput and kiln.NchwcReorderOutput: the layout pass's boundaries between NCHW
// and NCHWc (passes/nchwc_layout.h), around kernels/cpu/nchwc_reorder.
#include "kernels/cpu/nchwc.h"
#include "kernels/cpu/nchwc_reorder.h"
#include "ops/cpu/nchwc_block.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

// X float [N, C, H, W] -> Y [N, ceil(C / block), H, W, block], padded channels zero. The optional
// attribute `channels` is the C that the readers of Y were laid out for (the layout pass sets it):
// an X of another channel count would fill the same blocks with the wrong data.
class NchwcReorderInputKernel final : public OpKernel {
 public:
  explicit NchwcReorderInputKernel(const KernelInfo& info)
      : block_(read_nchwc_block(info)), channels_(info.attr_int("channels", 0)), isa_(kernels::vec_isa(info.cpu_level())) {}

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    if (x.dtype() != DType::Float32 || x.rank() != 4)
      throw Error(ErrorCode::InvalidArgument, std::string("input ") + dtype_name(x.dtype()) + " " +
                                                  shape_to_string(x.shape()) + " is not float32 [N, C, H, W]");
    if (channels_ && x.dim(1) != channels_)
      throw Error(ErrorCode::InvalidArgument, "input " + shape_to_string(x.shape()) + " does not have the " +
                                                  std::to_string(channels_) + " channels its readers expect");
    const kernels::NchwcReorderShape shape{x.dim(0), x.dim(1), x.dim(2) * x.dim(3), block_};
    Tensor& y = ctx.allocate_output(
        0, DType::Float32, {x.dim(0), kernels::nchwc_blocks(x.dim(1), block_), x.dim(2), x.dim(3), block_});
    kernels::nchwc_reorder_input(x.data<float>(), y.data<float>(), shape, isa_, ctx.pool());
  }

 private:
  int64_t block_, channels_;
  const kernels::VecIsa* isa_;  // null at CpuLevel::Scalar
};

// X [N, ceil(C / block), H, W, block] -> Y float [N, C, H, W], C being the attribute `channels`.
class NchwcReorderOutputKernel final : public OpKernel {
 public:
  explicit NchwcReorderOutputKernel(const KernelInfo& info)
      : block_(read_nchwc_block(info)), channels_(info.attr_int("channels")), isa_(kernels::vec_isa(info.cpu_level())) {
    if (channels_ < 1) throw Error(ErrorCode::InvalidModel, "channels " + std::to_string(channels_) + " is not positive");
  }

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    check_nchwc_input(x, block_);
    if (x.dim(1) != kernels::nchwc_blocks(channels_, block_))
      throw Error(ErrorCode::InvalidArgument, "input " + shape_to_string(x.shape()) + " does not hold " +
                                                  std::to_string(channels_) + " channels in blocks of " +
                                                  std::to_string(block_));
    const kernels::NchwcReorderShape shape{x.dim(0), channels_, x.dim(2) * x.dim(3), block_};
    Tensor& y = ctx.allocate_output(0, DType::Float32, {x.dim(0), channels_, x.dim(2), x.dim(3)});
    kernels::nchwc_reorder_output(x.data<float>(), y.data<float>(), shape, isa_, ctx.pool());
  }

 private:
  int64_t block_, channels_;
  const kernels::VecIsa* isa_;  // null at CpuLevel::Scalar
};

KILN_KERNEL(NchwcReorderInputKernel, {.op = "NchwcReorderInput", .domain = "kiln", .since = 1, .types = types::kFloat});
KILN_KERNEL(NchwcReorderOutputKernel, {.op = "NchwcReorderOutput", .domain = "kiln", .since = 1, .types = types::kFloat});

}  // namespace
}  // namespace kiln::ops
