// Binary elementwise ops with multidirectional broadcasting: arithmetic, comparison, logic, and the
// variadic Min/Max/Sum/Mean (folded pairwise). One kernel template serves them all; each op is a
// functor plus one registration line.
#include <cmath>
#include <cstdint>

#include "kernels/cpu/broadcast.h"
#include "ops/cpu/dispatch.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

struct AddOp { template <class T> T operator()(T a, T b) const { return a + b; } };
struct SubOp { template <class T> T operator()(T a, T b) const { return a - b; } };
struct MulOp { template <class T> T operator()(T a, T b) const { return a * b; } };
struct DivOp {
  template <class T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      if (b == 0) throw Error(ErrorCode::Runtime, "integer division by zero");
    }
    return a / b;
  }
};
struct MinOp { template <class T> T operator()(T a, T b) const { return std::isnan(static_cast<double>(a)) || a < b ? a : b; } };
struct MaxOp { template <class T> T operator()(T a, T b) const { return std::isnan(static_cast<double>(a)) || a > b ? a : b; } };
struct EqualOp { template <class T> bool operator()(T a, T b) const { return a == b; } };
struct LessOp { template <class T> bool operator()(T a, T b) const { return a < b; } };
struct LessOrEqualOp { template <class T> bool operator()(T a, T b) const { return a <= b; } };
struct GreaterOp { template <class T> bool operator()(T a, T b) const { return a > b; } };
struct GreaterOrEqualOp { template <class T> bool operator()(T a, T b) const { return a >= b; } };
struct AndOp { bool operator()(bool a, bool b) const { return a && b; } };
struct OrOp { bool operator()(bool a, bool b) const { return a || b; } };
struct XorOp { bool operator()(bool a, bool b) const { return a != b; } };

template <class T, class Out, class Op>
void apply_broadcast(const Tensor& a, const Tensor& b, Tensor& out, Op op) {
  const std::vector<int64_t> strides[2] = {kernels::broadcast_strides(a.shape(), out.shape()),
                                           kernels::broadcast_strides(b.shape(), out.shape())};
  const T* pa = static_cast<const T*>(a.raw());
  const T* pb = static_cast<const T*>(b.raw());
  Out* po = static_cast<Out*>(out.raw());
  kernels::for_each_broadcast(out.shape(), strides, [&](int64_t i, const int64_t* o) { po[i] = op(pa[o[0]], pb[o[1]]); });
}

// Output dtype: the inputs' for arithmetic, bool for comparisons.
template <class Op, class... Ts>
class BinaryKernel final : public OpKernel {
 public:
  explicit BinaryKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) const override {
    if (ctx.input_count() == 0) throw Error(ErrorCode::InvalidModel, "needs at least one input");
    Tensor acc = ctx.input(0);
    for (size_t k = 1; k < ctx.input_count(); ++k) acc = combine(acc, ctx.input(k));
    ctx.set_output(0, ctx.input_count() == 1 ? acc.clone() : acc);
  }

 private:
  static Tensor combine(const Tensor& a, const Tensor& b) {
    if (a.dtype() != b.dtype())
      throw Error(ErrorCode::InvalidModel, std::string("input dtypes differ: ") + dtype_name(a.dtype()) + " and " +
                                               dtype_name(b.dtype()));
    Tensor out;
    dispatch_dtype<Ts...>(a.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      using Out = decltype(Op{}(T{}, T{}));
      out = Tensor(dtype_of<Out>(), kernels::broadcast_shapes(a.shape(), b.shape()));
      apply_broadcast<T, Out>(a, b, out, Op{});
    });
    return out;
  }
};

#define KILN_NUMERIC_TYPES float, double, int32_t, int64_t, int8_t, uint8_t, int16_t, uint16_t, uint32_t, uint64_t
const std::vector<DType> kNumericDTypes = {DType::Float32, DType::Float64, DType::Int32,  DType::Int64,
                                           DType::Int8,    DType::UInt8,   DType::Int16,  DType::UInt16,
                                           DType::UInt32,  DType::UInt64};
const std::vector<DType> kComparableDTypes = [] {
  auto t = kNumericDTypes;
  t.push_back(DType::Bool);
  return t;
}();

using AddKernel = BinaryKernel<AddOp, KILN_NUMERIC_TYPES>;
KILN_KERNEL(AddKernel, {.op = "Add", .since = 7, .types = kNumericDTypes});
using SubKernel = BinaryKernel<SubOp, KILN_NUMERIC_TYPES>;
KILN_KERNEL(SubKernel, {.op = "Sub", .since = 7, .types = kNumericDTypes});
using MulKernel = BinaryKernel<MulOp, KILN_NUMERIC_TYPES>;
KILN_KERNEL(MulKernel, {.op = "Mul", .since = 7, .types = kNumericDTypes});
using DivKernel = BinaryKernel<DivOp, KILN_NUMERIC_TYPES>;
KILN_KERNEL(DivKernel, {.op = "Div", .since = 7, .types = kNumericDTypes});
using MinKernel = BinaryKernel<MinOp, KILN_NUMERIC_TYPES>;
KILN_KERNEL(MinKernel, {.op = "Min", .since = 8, .types = kNumericDTypes});
using MaxKernel = BinaryKernel<MaxOp, KILN_NUMERIC_TYPES>;
KILN_KERNEL(MaxKernel, {.op = "Max", .since = 8, .types = kNumericDTypes});
using SumKernel = BinaryKernel<AddOp, float, double>;
KILN_KERNEL(SumKernel, {.op = "Sum", .since = 8, .types = {DType::Float32, DType::Float64}});
using EqualKernel = BinaryKernel<EqualOp, KILN_NUMERIC_TYPES, bool>;
KILN_KERNEL(EqualKernel, {.op = "Equal", .since = 7, .types = kComparableDTypes});
using LessKernel = BinaryKernel<LessOp, KILN_NUMERIC_TYPES>;
KILN_KERNEL(LessKernel, {.op = "Less", .since = 7, .types = kNumericDTypes});
using LessOrEqualKernel = BinaryKernel<LessOrEqualOp, KILN_NUMERIC_TYPES>;
KILN_KERNEL(LessOrEqualKernel, {.op = "LessOrEqual", .since = 12, .types = kNumericDTypes});
using GreaterKernel = BinaryKernel<GreaterOp, KILN_NUMERIC_TYPES>;
KILN_KERNEL(GreaterKernel, {.op = "Greater", .since = 7, .types = kNumericDTypes});
using GreaterOrEqualKernel = BinaryKernel<GreaterOrEqualOp, KILN_NUMERIC_TYPES>;
KILN_KERNEL(GreaterOrEqualKernel, {.op = "GreaterOrEqual", .since = 12, .types = kNumericDTypes});
using AndKernel = BinaryKernel<AndOp, bool>;
KILN_KERNEL(AndKernel, {.op = "And", .since = 7, .types = {DType::Bool}});
using OrKernel = BinaryKernel<OrOp, bool>;
KILN_KERNEL(OrKernel, {.op = "Or", .since = 7, .types = {DType::Bool}});
using XorKernel = BinaryKernel<XorOp, bool>;
KILN_KERNEL(XorKernel, {.op = "Xor", .since = 7, .types = {DType::Bool}});

}  // namespace
}  // namespace kiln::ops
