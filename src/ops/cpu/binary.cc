// Binary elementwise ops with multidirectional broadcasting: arithmetic, comparison, logic, and the
// variadic Min/Max/Sum/Mean (folded pairwise). One kernel template serves them all; each op is a
// functor plus one registration line.
//
// Before opset 7 these ops broadcast only B onto A, and only with the attribute broadcast=1,
// aligning B's dims with A's at `axis` (default: the trailing dims). The kernel reshapes B to that
// alignment and then uses the same numpy broadcasting.
//
// Float32 Add, Sub, Mul and Div (and Sum, Mean) take the vectorized kernels at CPU levels above
// Scalar whenever the broadcast reduces to runs long enough to pay (kernels/cpu/broadcast_runs.h):
// same shapes, a scalar operand, per-channel and row-vector operands. Their functors name the
// kernel with kVecKind.
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include "kernels/cpu/broadcast_runs.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/vec_isa.h"
#include "ops/cpu/same_dtype.h"
#include "ops/cpu/type_list.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

struct AddOp {
  template <class T> T operator()(T a, T b) const { return a + b; }
  static constexpr kernels::BinaryKind kVecKind = kernels::BinaryKind::Add;
};
struct SubOp {
  template <class T> T operator()(T a, T b) const { return a - b; }
  static constexpr kernels::BinaryKind kVecKind = kernels::BinaryKind::Sub;
};
struct MulOp {
  template <class T> T operator()(T a, T b) const { return a * b; }
  static constexpr kernels::BinaryKind kVecKind = kernels::BinaryKind::Mul;
};
struct DivOp {
  static constexpr kernels::BinaryKind kVecKind = kernels::BinaryKind::Div;
  template <class T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      if (b == 0) throw Error(ErrorCode::Runtime, "integer division by zero");
      // The one quotient that overflows; x86 traps on it.
      if constexpr (std::is_signed_v<T>)
        if (b == -1 && a == std::numeric_limits<T>::min()) return a;
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

constexpr int64_t kNoAxis = std::numeric_limits<int64_t>::min();

// Reshapes an opset < 7 B input so that numpy broadcasting reproduces the legacy alignment.
Tensor legacy_align(const Tensor& a, const Tensor& b, bool broadcast, int64_t axis) {
  if (!broadcast) {
    if (a.shape() != b.shape())
      throw Error(ErrorCode::InvalidModel, "shapes " + shape_to_string(a.shape()) + " and " + shape_to_string(b.shape()) +
                                               " differ and the broadcast attribute is not set");
    return b;
  }
  const int64_t rank_a = static_cast<int64_t>(a.rank()), rank_b = static_cast<int64_t>(b.rank());
  const int64_t start = axis == kNoAxis ? rank_a - rank_b : (axis < 0 ? axis + rank_a : axis);
  if (start < 0 || start + rank_b > rank_a)
    throw Error(ErrorCode::InvalidModel, "cannot align B " + shape_to_string(b.shape()) + " with A " +
                                             shape_to_string(a.shape()) + " at axis " + std::to_string(axis));
  Shape aligned(static_cast<size_t>(start), 1);
  aligned.insert(aligned.end(), b.shape().begin(), b.shape().end());
  aligned.resize(static_cast<size_t>(rank_a), 1);
  return b.reshaped(aligned);
}

// Output dtype: the inputs' for arithmetic, bool for comparisons. Mean is Sum with a final scale.
template <class Op, class Types, bool kAverage = false>
class BinaryKernel final : public OpKernel {
 public:
  explicit BinaryKernel(const KernelInfo& info)
      : legacy_(info.opset() < 7 && info.input_count() == 2),
        broadcast_(info.attr_int("broadcast", 0) != 0),
        axis_(info.attr_int("axis", kNoAxis)),
        vec_(kernels::vec_isa(info.cpu_level())) {}

  void compute(KernelContext& ctx) const override {
    const size_t count = ctx.input_count();
    if (count == 0) throw Error(ErrorCode::InvalidModel, "needs at least one input");
    Tensor acc = ctx.input(0);
    if (count == 1) acc = acc.clone();
    for (size_t k = 1; k < count; ++k) {
      const Tensor b = legacy_ ? legacy_align(acc, ctx.input(k), broadcast_, axis_) : ctx.input(k);
      require_same_dtype(acc, b);
      const DType out_dtype = result_dtype(acc.dtype());
      Shape shape = kernels::broadcast_shapes(acc.shape(), b.shape());
      // Partial sums of a variadic op live apart; only the result takes the output's buffer.
      Tensor out = k + 1 == count ? ctx.allocate_output(0, out_dtype, std::move(shape))
                                  : Tensor(out_dtype, std::move(shape));
      combine(ctx.pool(), acc, b, out);
      acc = std::move(out);
    }
    if constexpr (kAverage) scale(acc, 1.0 / static_cast<double>(count));
    if (count == 1) ctx.set_output(0, acc);
  }

  // Every output element reads only the inputs' elements it broadcasts from, before it is written;
  // an input of the output's shape is read at the output's own position.
  bool may_write_output_into_input(size_t) const override { return true; }

 private:
  static DType result_dtype(DType input) {
    DType out = DType::Undefined;
    Types::dispatch(input, [&](auto tag) {
      using T = typename decltype(tag)::type;
      out = dtype_of<decltype(Op{}(T{}, T{}))>();
    });
    return out;
  }

  void combine(ThreadPool& pool, const Tensor& a, const Tensor& b, Tensor& out) const {
    if constexpr (requires { Op::kVecKind; }) {
      if (vec_ && a.dtype() == DType::Float32 && combine_vec(pool, a, b, out)) return;
    }
    Types::dispatch(a.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      using Out = decltype(Op{}(T{}, T{}));
      if (a.shape() == b.shape()) {  // the common case: one flat, parallel loop
        const T* pa = a.data<T>();
        const T* pb = b.data<T>();
        Out* po = static_cast<Out*>(out.raw());
        pool.parallel_for(a.numel(), [&](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i) po[i] = Op{}(pa[i], pb[i]);
        }, kernels::kElementwiseGrain);
      } else {
        kernels::broadcast_map<Out, T, T>(out, {&a, &b}, Op{});
      }
    });
  }

  // Runs shorter than this cost more in per-run overhead than vectorizing saves.
  static constexpr int64_t kMinVecRun = 16;

  // The vectorized float32 path; false when the broadcast leaves runs shorter than kMinVecRun.
  bool combine_vec(ThreadPool& pool, const Tensor& a, const Tensor& b, Tensor& out) const {
    const kernels::BroadcastRuns runs = kernels::broadcast_runs(a.shape(), b.shape(), out.shape());
    if (runs.run < kMinVecRun) return false;
    const float* pa = a.data<float>();
    const float* pb = b.data<float>();
    float* po = out.data<float>();
    kernels::parallel_for_each_run(pool, runs, [&](int64_t o, int64_t ia, int64_t ib, int64_t n) {
      vec_->binary(Op::kVecKind, pa + ia, runs.a_form, pb + ib, runs.b_form, po + o, n);
    });
    return true;
  }

  static void scale(Tensor& t, double factor) {
    Types::dispatch(t.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      T* p = t.data<T>();
      for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<T>(static_cast<double>(p[i]) * factor);
    });
  }

  bool legacy_;
  bool broadcast_;
  int64_t axis_;
  const kernels::VecIsa* vec_;  // null at CpuLevel::Scalar
};

using BoolTypes = TypeList<bool>;
using ComparableTypes = NumericTypes::append<bool>;

using AddKernel = BinaryKernel<AddOp, NumericTypes>;
using SubKernel = BinaryKernel<SubOp, NumericTypes>;
using MulKernel = BinaryKernel<MulOp, NumericTypes>;
using DivKernel = BinaryKernel<DivOp, NumericTypes>;
using MinKernel = BinaryKernel<MinOp, NumericTypes>;
using MaxKernel = BinaryKernel<MaxOp, NumericTypes>;
using SumKernel = BinaryKernel<AddOp, FloatTypes>;
using MeanKernel = BinaryKernel<AddOp, FloatTypes, true>;
using EqualKernel = BinaryKernel<EqualOp, ComparableTypes>;
using LessKernel = BinaryKernel<LessOp, NumericTypes>;
using LessOrEqualKernel = BinaryKernel<LessOrEqualOp, NumericTypes>;
using GreaterKernel = BinaryKernel<GreaterOp, NumericTypes>;
using GreaterOrEqualKernel = BinaryKernel<GreaterOrEqualOp, NumericTypes>;
using AndKernel = BinaryKernel<AndOp, BoolTypes>;
using OrKernel = BinaryKernel<OrOp, BoolTypes>;
using XorKernel = BinaryKernel<XorOp, BoolTypes>;

KILN_KERNEL(AddKernel, {.op = "Add", .since = 1, .types = NumericTypes::dtypes()});
KILN_KERNEL(SubKernel, {.op = "Sub", .since = 1, .types = NumericTypes::dtypes()});
KILN_KERNEL(MulKernel, {.op = "Mul", .since = 1, .types = NumericTypes::dtypes()});
KILN_KERNEL(DivKernel, {.op = "Div", .since = 1, .types = NumericTypes::dtypes()});
KILN_KERNEL(MinKernel, {.op = "Min", .since = 1, .types = NumericTypes::dtypes()});
KILN_KERNEL(MaxKernel, {.op = "Max", .since = 1, .types = NumericTypes::dtypes()});
KILN_KERNEL(SumKernel, {.op = "Sum", .since = 1, .types = FloatTypes::dtypes()});
KILN_KERNEL(MeanKernel, {.op = "Mean", .since = 1, .types = FloatTypes::dtypes()});
KILN_KERNEL(EqualKernel, {.op = "Equal", .since = 1, .types = ComparableTypes::dtypes()});
KILN_KERNEL(LessKernel, {.op = "Less", .since = 1, .types = NumericTypes::dtypes()});
KILN_KERNEL(LessOrEqualKernel, {.op = "LessOrEqual", .since = 12, .types = NumericTypes::dtypes()});
KILN_KERNEL(GreaterKernel, {.op = "Greater", .since = 1, .types = NumericTypes::dtypes()});
KILN_KERNEL(GreaterOrEqualKernel, {.op = "GreaterOrEqual", .since = 12, .types = NumericTypes::dtypes()});
KILN_KERNEL(AndKernel, {.op = "And", .since = 1, .types = BoolTypes::dtypes()});
KILN_KERNEL(OrKernel, {.op = "Or", .since = 1, .types = BoolTypes::dtypes()});
KILN_KERNEL(XorKernel, {.op = "Xor", .since = 1, .types = BoolTypes::dtypes()});

}  // namespace
}  // namespace kiln::ops
