// Shape (with opset 15's start/end window) and Size: metadata of the input as int64 tensors.
#include <algorithm>
#include <optional>

#include "ops/registry.h"

namespace kiln::ops {
namespace {

class ShapeKernel final : public OpKernel {
 public:
  explicit ShapeKernel(const KernelInfo& info)
      : start_(info.attr_int("start", 0)),
        end_(info.has_attr("end") ? std::optional(info.attr_int("end")) : std::nullopt) {}
  void compute(KernelContext& ctx) const override {
    const Shape& shape = ctx.input(0).shape();
    const int64_t rank = static_cast<int64_t>(shape.size());
    // Out-of-range bounds clamp to [0, rank], as the spec asks.
    auto clamp = [rank](int64_t i) { return std::clamp<int64_t>(i < 0 ? i + rank : i, 0, rank); };
    const int64_t begin = clamp(start_), end = std::max(begin, clamp(end_.value_or(rank)));
    ctx.set_output(0, Tensor::from_vector<int64_t>({end - begin}, Shape(shape.begin() + begin, shape.begin() + end)));
  }

 private:
  int64_t start_;
  std::optional<int64_t> end_;
};
KILN_KERNEL(ShapeKernel, {.op = "Shape", .since = 1});

class SizeKernel final : public OpKernel {
 public:
  explicit SizeKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) const override { ctx.set_output(0, Tensor::scalar<int64_t>(ctx.input(0).numel())); }
};
KILN_KERNEL(SizeKernel, {.op = "Size", .since = 1});

}  // namespace
}  // namespace kiln::ops
