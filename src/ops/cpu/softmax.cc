// Softmax, LogSoftmax and Hardmax. Their semantics changed at opset 13: before it the input is
// coerced to 2-D at `axis` (default 1) and the op runs over the flattened trailing dims; from 13
// on it runs along the single axis `axis` (default -1). Both map onto the kernels' [outer, n,
// inner] view, so one kernel class serves every op and opset. Softmax and LogSoftmax along the
// last axis (inner == 1, always the case for the coerced forms) take the vectorized kernel at CPU
// levels above Scalar.
#include <algorithm>
#include <cstdint>

#include "kernels/cpu/softmax_ref.h"
#include "kernels/cpu/vec_isa.h"
#include "ops/cpu/dispatch.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

using AxisFunction = void (*)(const float* x, float* y, int64_t outer, int64_t n, int64_t inner);

enum class Family { Softmax, LogSoftmax, Hardmax };

template <Family kFamily, AxisFunction Compute>
class SoftmaxFamilyKernel final : public OpKernel {
 public:
  explicit SoftmaxFamilyKernel(const KernelInfo& info)
      : coerce_to_2d_(info.opset() < 13),
        axis_(info.attr_int("axis", coerce_to_2d_ ? 1 : -1)),
        vec_(kFamily == Family::Hardmax ? nullptr : kernels::vec_isa(info.cpu_level())) {}

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const Shape& shape = x.shape();
    const int64_t rank = static_cast<int64_t>(shape.size());
    const int64_t axis = normalize_axis(axis_, rank);
    int64_t outer = 1, n = 1, inner = 1;
    for (int64_t d = 0; d < rank; ++d) {
      if (d < axis) outer *= shape[d];
      else if (d == axis || coerce_to_2d_) n *= shape[d];
      else inner *= shape[d];
    }
    Tensor& y = ctx.allocate_output(0, DType::Float32, shape);
    const float* px = x.data<float>();
    float* py = y.data<float>();
    const int64_t block = n * inner;
    const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(block, 1));
    if (vec_ && inner == 1) {
      ctx.pool().parallel_for(
          outer,
          [&](int64_t begin, int64_t end) {
            vec_->softmax_rows(px + begin * n, py + begin * n, end - begin, n, kFamily == Family::LogSoftmax);
          },
          grain);
      return;
    }
    ctx.pool().parallel_for(
        outer, [&](int64_t begin, int64_t end) { Compute(px + begin * block, py + begin * block, end - begin, n, inner); },
        grain);
  }

 private:
  bool coerce_to_2d_;
  int64_t axis_;
  const kernels::VecIsa* vec_;  // null at CpuLevel::Scalar and for Hardmax
};

using SoftmaxKernel = SoftmaxFamilyKernel<Family::Softmax, kernels::softmax_ref>;
KILN_KERNEL(SoftmaxKernel, {.op = "Softmax", .since = 1, .types = types::kFloat});
using LogSoftmaxKernel = SoftmaxFamilyKernel<Family::LogSoftmax, kernels::log_softmax_ref>;
KILN_KERNEL(LogSoftmaxKernel, {.op = "LogSoftmax", .since = 1, .types = types::kFloat});
using HardmaxKernel = SoftmaxFamilyKernel<Family::Hardmax, kernels::hardmax_ref>;
KILN_KERNEL(HardmaxKernel, {.op = "Hardmax", .since = 1, .types = types::kFloat});

}  // namespace
}  // namespace kiln::ops
