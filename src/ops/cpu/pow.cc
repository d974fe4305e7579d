// Pow: base ^ exponent with multidirectional broadcasting. From opset 12 the exponent's dtype may
// differ from the base's (float base with int64 exponent, int base with float exponent); the
// output has the base's dtype.
//
// A float32 base squared (a lone exponent equal to 2: decomposed LayerNorm's variance) runs as the
// vectorized x * x over the threads: the same bits as pow in double rounded to float, since the
// square of a float is exact in double. It took 1.5 ms per BERT-base LayerNorm through std::pow.
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "kernels/cpu/convert.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/vec_isa.h"
#include "ops/cpu/type_list.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

using PowBaseTypes = TypeList<float, double, int32_t, int64_t>;

// Exact integer power by squaring. It wraps on overflow as numpy does; the unsigned arithmetic keeps
// that wrap defined, and truncating the 64-bit product to T gives T's wrapped result.
template <class T, class E>
T integer_power(T base, E exponent) {
  if constexpr (std::is_signed_v<E>) {
    // Only 1 and -1 have integer reciprocals; other bases truncate to 0.
    if (exponent < 0) return base == 1 ? T(1) : base == -1 ? T(exponent % 2 == 0 ? 1 : -1) : T(0);
  }
  uint64_t result = 1, factor = static_cast<uint64_t>(base);
  for (auto e = static_cast<uint64_t>(exponent); e != 0; e >>= 1) {
    if (e & 1) result *= factor;
    factor *= factor;
  }
  return static_cast<T>(result);
}

template <class T, class E>
T power(T base, E exponent) {
  if constexpr (std::is_integral_v<T> && std::is_integral_v<E>)
    return integer_power(base, exponent);
  else
    return kernels::convert<T>(std::pow(static_cast<double>(base), static_cast<double>(exponent)));
}

// Before opset 7, broadcasting was opt-in (`broadcast`) and right-aligned like numpy's unless
// `axis` aligned the exponent's first dim with that axis of the base. Numpy rules cover the
// right-aligned case; an explicit axis pads the exponent's shape with trailing 1s.
class PowKernel final : public OpKernel {
 public:
  explicit PowKernel(const KernelInfo& info)
      : legacy_axis_(info.opset() < 7 && info.has_attr("axis") ? info.attr_int("axis") : kNoAxis),
        vec_(kernels::vec_isa(info.cpu_level())) {}

  void compute(KernelContext& ctx) const override {
    const Tensor& base = ctx.input(0);
    const Tensor exponent = aligned_exponent(base, ctx.input(1));
    Tensor& out = ctx.allocate_output(0, base.dtype(), kernels::broadcast_shapes(base.shape(), exponent.shape()));
    if (vec_ && base.dtype() == DType::Float32 && is_two(exponent)) {
      const float* x = base.data<float>();
      float* y = out.data<float>();
      ctx.pool().parallel_for(base.numel(), [&](int64_t begin, int64_t end) {
        vec_->binary(kernels::BinaryKind::Mul, x + begin, kernels::Operand::Vector, x + begin, kernels::Operand::Vector,
                     y + begin, end - begin);
      }, kernels::kElementwiseGrain);
      return;
    }
    PowBaseTypes::dispatch(base.dtype(), [&](auto base_tag) {
      using T = typename decltype(base_tag)::type;
      NumericTypes::dispatch(exponent.dtype(), [&](auto exponent_tag) {
        using E = typename decltype(exponent_tag)::type;
        kernels::broadcast_map<T, T, E>(out, {&base, &exponent}, power<T, E>);
      });
    });
  }

 private:
  static constexpr int64_t kNoAxis = std::numeric_limits<int64_t>::min();

  static bool is_two(const Tensor& exponent) {
    if (exponent.numel() != 1) return false;
    bool two = false;
    NumericTypes::dispatch(exponent.dtype(), [&](auto tag) {
      using E = typename decltype(tag)::type;
      two = static_cast<double>(exponent.data<E>()[0]) == 2.0;
    });
    return two;
  }

  Tensor aligned_exponent(const Tensor& base, const Tensor& exponent) const {
    if (legacy_axis_ == kNoAxis) return exponent;
    const auto rank = static_cast<int64_t>(base.rank());
    const int64_t axis = normalize_axis(legacy_axis_, rank);
    const auto trailing = rank - axis - static_cast<int64_t>(exponent.rank());
    if (trailing < 0)
      throw Error(ErrorCode::InvalidModel, "exponent of shape " + shape_to_string(exponent.shape()) +
                                               " does not fit base of shape " + shape_to_string(base.shape()) +
                                               " from axis " + std::to_string(axis));
    Shape shape = exponent.shape();
    shape.resize(shape.size() + static_cast<size_t>(trailing), 1);
    return exponent.reshaped(shape);
  }

  const int64_t legacy_axis_;
  const kernels::VecIsa* vec_;  // null at CpuLevel::Scalar
};

KILN_KERNEL(PowKernel, {.op = "Pow", .since = 1, .types = PowBaseTypes::dtypes()});

}  // namespace
}  // namespace kiln::ops
