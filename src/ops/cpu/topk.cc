// TopK: the k largest or smallest elements along an axis, with their int64 indices. k is an
// attribute until opset 10 and an input from then on; largest and sorted arrive in opset 11.
#include <cstdint>

#include "kernels/cpu/topk_ref.h"
#include "ops/cpu/dispatch.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

class TopKKernel final : public OpKernel {
 public:
  // Results always come out sorted, which also satisfies sorted = 0 (order unspecified).
  explicit TopKKernel(const KernelInfo& info)
      : axis_(info.attr_int("axis", -1)),
        largest_(info.attr_int("largest", 1) != 0),
        k_from_input_(info.opset() >= 10),
        attribute_k_(k_from_input_ ? 0 : info.attr_int("k")) {}

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const Shape& dims = x.shape();
    const auto axis = static_cast<size_t>(normalize_axis(axis_, static_cast<int64_t>(x.rank())));
    const int64_t n = dims[axis];
    const int64_t k = k_from_input_ ? k_input(ctx.input(1)) : attribute_k_;
    if (k < 0 || k > n)
      throw Error(ErrorCode::InvalidArgument,
                  "k = " + std::to_string(k) + " is outside [0, " + std::to_string(n) + "], the size of axis " +
                      std::to_string(axis));
    Shape out_shape = dims;
    out_shape[axis] = k;
    Tensor& values = ctx.allocate_output(0, x.dtype(), out_shape);
    Tensor& indices = ctx.allocate_output(1, DType::Int64, out_shape);
    const auto split = dims.begin() + static_cast<std::ptrdiff_t>(axis);
    const int64_t outer = shape_numel(Shape(dims.begin(), split)), inner = shape_numel(Shape(split + 1, dims.end()));
    dispatch_dtype<float, double, int32_t, int64_t>(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      kernels::compute_topk<T>(x.data<T>(), outer, n, inner, k, largest_, values.data<T>(), indices.data<int64_t>());
    });
  }

 private:
  static int64_t k_input(const Tensor& k) {
    if (k.dtype() != DType::Int64 || k.numel() != 1)
      throw Error(ErrorCode::InvalidModel, "K must be a single int64, got " + std::string(dtype_name(k.dtype())) + " " +
                                               shape_to_string(k.shape()));
    return k.data<int64_t>()[0];
  }

  int64_t axis_;
  bool largest_;
  bool k_from_input_;
  int64_t attribute_k_;
};

KILN_KERNEL(TopKKernel, {.op = "TopK", .since = 1, .types = types::kNumeric});

}  // namespace
}  // namespace kiln::ops
