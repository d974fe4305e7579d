// kiln.NchwcMaxPool, kiln.NchwcAveragePool, kiln.NchwcGlobalMaxPool and kiln.NchwcGlobalAveragePool:
// the 2-D pools on NCHWc tensors that the layout pass puts inside NCHWc chains, with the ONNX
// pools' attributes and results, around kernels/cpu/nchwc_pool. A global pool is the windowed
// one with a window the size of the input.
#include "kernels/cpu/nchwc_pool.h"
#include "ops/cpu/nchwc_block.h"
#include "ops/cpu/window_attributes.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

template <bool Average, bool Global>
class NchwcPoolKernel final : public OpKernel {
 public:
  explicit NchwcPoolKernel(const KernelInfo& info) : block_(read_nchwc_block(info)), cpu_level_(info.cpu_level()) {
    if constexpr (!Global) {
      attributes_ = read_window_attributes(info);
      if (attributes_.kernel.size() != 2)
        throw Error(ErrorCode::InvalidModel, "kernel_shape " + shape_to_string(attributes_.kernel) + " is not 2-D");
    }
    if constexpr (Average && !Global) count_include_pad_ = info.attr_int("count_include_pad", 0) != 0;
  }

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    check_nchwc_input(x, block_);
    const Shape spatial = {x.dim(2), x.dim(3)};
    kernels::WindowAttributes attributes = attributes_;
    if constexpr (Global) attributes.kernel = spatial;
    const kernels::WindowGeometry geometry = kernels::make_window_geometry(spatial, attributes);
    const kernels::Pool2d pool = kernels::make_pool_2d(geometry, Average, count_include_pad_);
    Tensor& y = ctx.allocate_output(0, DType::Float32, {x.dim(0), x.dim(1), pool.out_h, pool.out_w, block_});
    kernels::compute_nchwc_pool(pool, x.dim(0) * x.dim(1), block_, cpu_level_, x.data<float>(), y.data<float>(),
                                ctx.pool());
  }

 private:
  int64_t block_;
  CpuLevel cpu_level_;
  kernels::WindowAttributes attributes_;
  bool count_include_pad_ = false;
};

using NchwcMaxPoolKernel = NchwcPoolKernel<false, false>;
KILN_KERNEL(NchwcMaxPoolKernel, {.op = "NchwcMaxPool", .domain = "kiln", .since = 1, .types = types::kFloat});
using NchwcAveragePoolKernel = NchwcPoolKernel<true, false>;
KILN_KERNEL(NchwcAveragePoolKernel, {.op = "NchwcAveragePool", .domain = "kiln", .since = 1, .types = types::kFloat});
using NchwcGlobalMaxPoolKernel = NchwcPoolKernel<false, true>;
KILN_KERNEL(NchwcGlobalMaxPoolKernel, {.op = "NchwcGlobalMaxPool", .domain = "kiln", .since = 1, .types = types::kFloat});
using NchwcGlobalAveragePoolKernel = NchwcPoolKernel<true, true>;
KILN_KERNEL(NchwcGlobalAveragePoolKernel,
            {.op = "NchwcGlobalAveragePool", .domain = "kiln", .since = 1, .types = types::kFloat});

}  // namespace
}  // namespace kiln::ops
