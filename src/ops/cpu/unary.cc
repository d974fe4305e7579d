// Unary elementwise math and activations. Each op is a functor, built from the node's attributes
// where it has any (LeakyRelu's alpha, HardSigmoid's alpha and beta, ...); one kernel template maps
// it over the input in parallel chunks. Adding an op is a functor plus one registration line.
//
// A functor whose op has a vectorized float32 kernel says so with `vec()`, naming it for
// kernels::VecIsa::unary (or nullopt, for attributes it does not cover); at CPU levels above
// Scalar float32 inputs take that kernel.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>

#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/vec_isa.h"
#include "ops/cpu/type_list.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

template <class Op, class Types>
class UnaryKernel final : public OpKernel {
 public:
  explicit UnaryKernel(const KernelInfo& info) : op_(make_op(info)), vec_(kernels::vec_isa(info.cpu_level())) {}

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    if constexpr (requires { op_.vec(); }) {
      const std::optional<kernels::UnaryOp> vec_op = op_.vec();
      if (vec_ && vec_op && x.dtype() == DType::Float32) {
        float* out = ctx.allocate_output(0, DType::Float32, x.shape()).data<float>();
        kernels::parallel_vec_unary(ctx.pool(), *vec_, *vec_op, x.data<float>(), out, x.numel());
        return;
      }
    }
    Types::dispatch(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      using Out = decltype(op_(T{}));
      const T* in = x.data<T>();
      Out* out = ctx.allocate_output(0, dtype_of<Out>(), x.shape()).template data<Out>();
      kernels::parallel_map(ctx.pool(), in, out, x.numel(), op_);
    });
  }

  // Elementwise: each output element is written after its own input element is read.
  bool may_write_output_into_input(size_t) const override { return true; }

 private:
  static Op make_op(const KernelInfo& info) {
    if constexpr (std::is_constructible_v<Op, const KernelInfo&>)
      return Op(info);
    else
      return Op{};
  }

  const Op op_;
  const kernels::VecIsa* vec_;  // null at CpuLevel::Scalar
};

// -x, wrapping the most negative integer onto itself (as numpy does) instead of overflowing.
template <class T>
T negate(T x) {
  if constexpr (std::is_integral_v<T>)
    return static_cast<T>(-static_cast<std::make_unsigned_t<T>>(x));
  else
    return -x;
}

template <class T>
T logistic(T x) {
  // Both branches exponentiate a non-positive number, so neither overflows.
  if (x >= 0) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}

// Activations.
struct ReluOp {  // NaN stays NaN
  template <class T> T operator()(T x) const { return x < T(0) ? T(0) : x; }
  kernels::UnaryOp vec() const { return {kernels::UnaryKind::Relu}; }
};
struct SigmoidOp {
  template <class T> T operator()(T x) const { return logistic(x); }
  kernels::UnaryOp vec() const { return {kernels::UnaryKind::Sigmoid}; }
};
struct TanhOp {
  template <class T> T operator()(T x) const { return std::tanh(x); }
  kernels::UnaryOp vec() const { return {kernels::UnaryKind::Tanh}; }
};
struct SoftsignOp { template <class T> T operator()(T x) const { return x / (T(1) + std::abs(x)); } };
struct SoftplusOp {
  // log(1 + e^x) rewritten so that e^x cannot overflow for large x.
  template <class T> T operator()(T x) const { return std::max(x, T(0)) + std::log1p(std::exp(-std::abs(x))); }
};
struct HardSwishOp {
  template <class T> T operator()(T x) const { return x * std::clamp(x / T(6) + T(0.5), T(0), T(1)); }
  kernels::UnaryOp vec() const { return {kernels::UnaryKind::HardSwish}; }
};
struct LeakyReluOp {
  explicit LeakyReluOp(const KernelInfo& info) : alpha(info.attr_float("alpha", 0.01f)) {}
  template <class T> T operator()(T x) const { return x < T(0) ? T(alpha) * x : x; }
  kernels::UnaryOp vec() const { return {kernels::UnaryKind::LeakyRelu, alpha}; }
  float alpha;
};
struct EluOp {
  explicit EluOp(const KernelInfo& info) : alpha(info.attr_float("alpha", 1.f)) {}
  template <class T> T operator()(T x) const { return x < T(0) ? T(alpha) * std::expm1(x) : x; }
  float alpha;
};
struct SeluOp {
  explicit SeluOp(const KernelInfo& info)
      : alpha(info.attr_float("alpha", 1.67326319217681884765625f)),
        gamma(info.attr_float("gamma", 1.05070102214813232421875f)) {}
  template <class T> T operator()(T x) const { return T(gamma) * (x > T(0) ? x : T(alpha) * std::expm1(x)); }
  float alpha, gamma;
};
struct CeluOp {
  explicit CeluOp(const KernelInfo& info) : alpha(info.attr_float("alpha", 1.f)) {
    if (alpha == 0.f) throw Error(ErrorCode::InvalidModel, "alpha must be nonzero");
  }
  template <class T> T operator()(T x) const { return x > T(0) ? x : T(alpha) * std::expm1(x / T(alpha)); }
  float alpha;
};
struct HardSigmoidOp {
  explicit HardSigmoidOp(const KernelInfo& info) : alpha(info.attr_float("alpha", 0.2f)), beta(info.attr_float("beta", 0.5f)) {}
  template <class T> T operator()(T x) const { return std::clamp(T(alpha) * x + T(beta), T(0), T(1)); }
  kernels::UnaryOp vec() const { return {kernels::UnaryKind::HardSigmoid, alpha, beta}; }
  float alpha, beta;
};
struct ShrinkOp {
  explicit ShrinkOp(const KernelInfo& info) : lambd(info.attr_float("lambd", 0.5f)), bias(info.attr_float("bias", 0.f)) {}
  template <class T> T operator()(T x) const { return x < T(-lambd) ? x + T(bias) : x > T(lambd) ? x - T(bias) : T(0); }
  float lambd, bias;
};
struct ThresholdedReluOp {
  explicit ThresholdedReluOp(const KernelInfo& info) : alpha(info.attr_float("alpha", 1.f)) {}
  template <class T> T operator()(T x) const { return x > T(alpha) ? x : T(0); }
  float alpha;
};

// Math.
struct SqrtOp {
  template <class T> T operator()(T x) const { return std::sqrt(x); }
  kernels::UnaryOp vec() const { return {kernels::UnaryKind::Sqrt}; }
};
struct ExpOp {
  template <class T> T operator()(T x) const { return std::exp(x); }
  kernels::UnaryOp vec() const { return {kernels::UnaryKind::Exp}; }
};
struct LogOp { template <class T> T operator()(T x) const { return std::log(x); } };
struct ErfOp {
  template <class T> T operator()(T x) const { return std::erf(x); }
  kernels::UnaryOp vec() const { return {kernels::UnaryKind::Erf}; }
};
// Gelu (opset 20, and kiln.Gelu, which FuseGelu makes from its Erf subgraph): the exact form, or
// with approximate = "tanh" x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))) / 2.
struct GeluOp {
  explicit GeluOp(const KernelInfo& info) {
    const std::string approximate = info.attr_string("approximate", "none");
    if (approximate != "none" && approximate != "tanh")
      throw Error(ErrorCode::InvalidModel, "approximate must be \"none\" or \"tanh\", got \"" + approximate + "\"");
    tanh_form = approximate == "tanh";
  }
  template <class T>
  T operator()(T x) const {
    if (tanh_form) return T(0.5) * x * (T(1) + std::tanh(T(0.7978845608028654) * (x + T(0.044715) * x * x * x)));
    return T(0.5) * x * (T(1) + std::erf(x * T(0.7071067811865476)));
  }
  kernels::UnaryOp vec() const { return {tanh_form ? kernels::UnaryKind::GeluTanh : kernels::UnaryKind::Gelu}; }
  bool tanh_form = false;
};
// kiln.Silu (FuseSilu makes it from x * Sigmoid(x)): Llama's and MobileNetV3's activation.
struct SiluOp {
  template <class T> T operator()(T x) const { return x * logistic(x); }
  kernels::UnaryOp vec() const { return {kernels::UnaryKind::Silu}; }
};
struct ReciprocalOp { template <class T> T operator()(T x) const { return T(1) / x; } };
struct FloorOp { template <class T> T operator()(T x) const { return std::floor(x); } };
struct CeilOp { template <class T> T operator()(T x) const { return std::ceil(x); } };
// Halves round to even, as ONNX specifies (the default floating-point rounding mode).
struct RoundOp { template <class T> T operator()(T x) const { return std::nearbyint(x); } };
struct SinOp { template <class T> T operator()(T x) const { return std::sin(x); } };
struct CosOp { template <class T> T operator()(T x) const { return std::cos(x); } };
struct TanOp { template <class T> T operator()(T x) const { return std::tan(x); } };
struct AsinOp { template <class T> T operator()(T x) const { return std::asin(x); } };
struct AcosOp { template <class T> T operator()(T x) const { return std::acos(x); } };
struct AtanOp { template <class T> T operator()(T x) const { return std::atan(x); } };
struct SinhOp { template <class T> T operator()(T x) const { return std::sinh(x); } };
struct CoshOp { template <class T> T operator()(T x) const { return std::cosh(x); } };
struct AsinhOp { template <class T> T operator()(T x) const { return std::asinh(x); } };
struct AcoshOp { template <class T> T operator()(T x) const { return std::acosh(x); } };
struct AtanhOp { template <class T> T operator()(T x) const { return std::atanh(x); } };
struct NegOp {
  template <class T> T operator()(T x) const { return negate(x); }
  kernels::UnaryOp vec() const { return {kernels::UnaryKind::Neg}; }
};
struct AbsOp {
  template <class T>
  T operator()(T x) const {
    if constexpr (std::is_unsigned_v<T>)
      return x;
    else if constexpr (std::is_floating_point_v<T>)
      return std::abs(x);
    else
      return x < T(0) ? negate(x) : x;
  }
  kernels::UnaryOp vec() const { return {kernels::UnaryKind::Abs}; }
};
struct SignOp {
  template <class T>
  T operator()(T x) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(x)) return x;
    }
    if constexpr (std::is_unsigned_v<T>)
      return static_cast<T>(x > 0);
    else
      return static_cast<T>((x > T(0)) - (x < T(0)));
  }
};

// Predicates.
struct IsNaNOp { template <class T> bool operator()(T x) const { return std::isnan(x); } };
struct IsInfOp {
  explicit IsInfOp(const KernelInfo& info)
      : detect_negative(info.attr_int("detect_negative", 1) != 0), detect_positive(info.attr_int("detect_positive", 1) != 0) {}
  template <class T> bool operator()(T x) const { return std::isinf(x) && (x > T(0) ? detect_positive : detect_negative); }
  bool detect_negative, detect_positive;
};
struct NotOp { bool operator()(bool x) const { return !x; } };

// Registers op `Name` (functor NameOp) over `Types` from opset `Since` on.
#define KILN_UNARY_KERNEL(Name, Since, Types)        \
  using Name##Kernel = UnaryKernel<Name##Op, Types>; \
  KILN_KERNEL(Name##Kernel, {.op = #Name, .since = Since, .types = Types::dtypes()})

KILN_UNARY_KERNEL(Relu, 6, SignedTypes);
KILN_UNARY_KERNEL(LeakyRelu, 6, FloatTypes);
KILN_UNARY_KERNEL(Sigmoid, 6, FloatTypes);
KILN_UNARY_KERNEL(Tanh, 6, FloatTypes);
KILN_UNARY_KERNEL(Elu, 6, FloatTypes);
KILN_UNARY_KERNEL(Selu, 6, FloatTypes);
KILN_UNARY_KERNEL(Celu, 12, FloatTypes);
KILN_UNARY_KERNEL(HardSigmoid, 6, FloatTypes);
KILN_UNARY_KERNEL(HardSwish, 14, FloatTypes);
KILN_UNARY_KERNEL(Softplus, 1, FloatTypes);
KILN_UNARY_KERNEL(Softsign, 1, FloatTypes);
KILN_UNARY_KERNEL(ThresholdedRelu, 10, FloatTypes);
KILN_UNARY_KERNEL(Shrink, 9, FloatTypes);
KILN_UNARY_KERNEL(Sqrt, 6, FloatTypes);
KILN_UNARY_KERNEL(Exp, 6, FloatTypes);
KILN_UNARY_KERNEL(Log, 6, FloatTypes);
KILN_UNARY_KERNEL(Erf, 9, FloatTypes);
KILN_UNARY_KERNEL(Gelu, 20, FloatTypes);
KILN_KERNEL(GeluKernel, {.op = "Gelu", .domain = "kiln", .since = 1, .types = FloatTypes::dtypes()});
using SiluKernel = UnaryKernel<SiluOp, FloatTypes>;
KILN_KERNEL(SiluKernel, {.op = "Silu", .domain = "kiln", .since = 1, .types = FloatTypes::dtypes()});
KILN_UNARY_KERNEL(Reciprocal, 6, FloatTypes);
KILN_UNARY_KERNEL(Floor, 6, FloatTypes);
KILN_UNARY_KERNEL(Ceil, 6, FloatTypes);
KILN_UNARY_KERNEL(Round, 11, FloatTypes);
KILN_UNARY_KERNEL(Sin, 7, FloatTypes);
KILN_UNARY_KERNEL(Cos, 7, FloatTypes);
KILN_UNARY_KERNEL(Tan, 7, FloatTypes);
KILN_UNARY_KERNEL(Asin, 7, FloatTypes);
KILN_UNARY_KERNEL(Acos, 7, FloatTypes);
KILN_UNARY_KERNEL(Atan, 7, FloatTypes);
KILN_UNARY_KERNEL(Sinh, 9, FloatTypes);
KILN_UNARY_KERNEL(Cosh, 9, FloatTypes);
KILN_UNARY_KERNEL(Asinh, 9, FloatTypes);
KILN_UNARY_KERNEL(Acosh, 9, FloatTypes);
KILN_UNARY_KERNEL(Atanh, 9, FloatTypes);
KILN_UNARY_KERNEL(Neg, 6, SignedTypes);
KILN_UNARY_KERNEL(Abs, 6, NumericTypes);
KILN_UNARY_KERNEL(Sign, 9, NumericTypes);
KILN_UNARY_KERNEL(IsNaN, 9, FloatTypes);
KILN_UNARY_KERNEL(IsInf, 10, FloatTypes);
KILN_UNARY_KERNEL(Not, 1, TypeList<bool>);

}  // namespace
}  // namespace kiln::ops
