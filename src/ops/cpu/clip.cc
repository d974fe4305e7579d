// Clip: y = min(max(x, min), max). Before opset 11 the bounds are float attributes; from 11 on they
// are optional scalar inputs of x's dtype, and from 12 on integer inputs are allowed too. Float32
// takes the vectorized kernel at CPU levels above Scalar.
#include <limits>
#include <optional>
#include <type_traits>
#include <string>

#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/vec_isa.h"
#include "ops/cpu/type_list.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

class ClipKernel final : public OpKernel {
 public:
  explicit ClipKernel(const KernelInfo& info)
      : bounds_are_attributes_(info.opset() < 11), vec_(kernels::vec_isa(info.cpu_level())) {
    if (bounds_are_attributes_) {
      if (info.has_attr("min")) min_attr_ = info.attr_float("min");
      if (info.has_attr("max")) max_attr_ = info.attr_float("max");
    }
  }

  // Elementwise over X; the bounds are read before the output exists.
  bool may_write_output_into_input(size_t input) const override { return input == 0; }

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    NumericTypes::dispatch(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T lo = bound<T>(ctx, 1, min_attr_, std::numeric_limits<T>::lowest());
      const T hi = bound<T>(ctx, 2, max_attr_, std::numeric_limits<T>::max());
      T* out = ctx.allocate_output(0, x.dtype(), x.shape()).template data<T>();
      if constexpr (std::is_same_v<T, float>) {
        if (vec_) {
          kernels::parallel_vec_unary(ctx.pool(), *vec_, {kernels::UnaryKind::Clip, lo, hi}, x.data<float>(), out,
                                      x.numel());
          return;
        }
      }
      // When lo > hi every element becomes hi, as ONNX specifies; NaN passes through.
      kernels::parallel_map(ctx.pool(), x.data<T>(), out, x.numel(), [&](T v) {
        const T raised = v < lo ? lo : v;
        return raised > hi ? hi : raised;
      });
    });
  }

 private:
  template <class T>
  T bound(const KernelContext& ctx, size_t input, std::optional<float> attr, T unbounded) const {
    if (bounds_are_attributes_) {
      if (!attr) return unbounded;
      if constexpr (std::is_floating_point_v<T>) return static_cast<T>(*attr);
      throw Error(ErrorCode::InvalidModel, "Clip before opset 12 takes floating-point inputs only");
    }
    if (!ctx.has_input(input)) return unbounded;
    const Tensor& b = ctx.input(input);
    const char* name = input == 1 ? "min" : "max";
    if (b.dtype() != dtype_of<T>())
      throw Error(ErrorCode::InvalidModel, std::string(name) + " is " + dtype_name(b.dtype()) + " but the input is " +
                                               dtype_name(dtype_of<T>()));
    if (b.numel() != 1)
      throw Error(ErrorCode::InvalidArgument, std::string(name) + " must be a scalar, got shape " +
                                                  shape_to_string(b.shape()));
    return b.data<T>()[0];
  }

  bool bounds_are_attributes_;
  std::optional<float> min_attr_, max_attr_;
  const kernels::VecIsa* vec_;  // null at CpuLevel::Scalar
};

KILN_KERNEL(ClipKernel, {.op = "Clip", .since = 6, .until = 11, .types = FloatTypes::dtypes()});
KILN_KERNEL(ClipKernel, {.op = "Clip", .since = 12, .types = NumericTypes::dtypes()});

}  // namespace
}  // namespace kiln::ops
