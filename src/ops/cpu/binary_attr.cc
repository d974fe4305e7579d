// Binary elementwise ops configured by an attribute: Mod (fmod) and BitShift (direction). Like
// binary.cc's ops they take two inputs of one dtype with multidirectional broadcasting, but their
// functors are built from the node.
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "kernels/cpu/convert.h"
#include "kernels/cpu/elementwise.h"
#include "ops/cpu/same_dtype.h"
#include "ops/cpu/type_list.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

template <class Op, class Types>
class AttrBinaryKernel final : public OpKernel {
 public:
  explicit AttrBinaryKernel(const KernelInfo& info) : op_(info) {}

  void compute(KernelContext& ctx) const override {
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    require_same_dtype(a, b);
    Tensor& out = ctx.allocate_output(0, a.dtype(), kernels::broadcast_shapes(a.shape(), b.shape()));
    Types::dispatch(a.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      kernels::broadcast_map<T, T, T>(out, {&a, &b}, op_);
    });
  }

 private:
  const Op op_;
};

// fmod=1: the remainder takes the dividend's sign (C fmod, truncated division). fmod=0: it takes
// the divisor's sign (numpy.mod, floored division). ONNX asks for fmod=1 with floating-point
// inputs; fmod=0 is accepted there with numpy's meaning.
struct ModOp {
  explicit ModOp(const KernelInfo& info) : fmod(info.attr_int("fmod", 0) != 0) {}

  template <class T>
  T operator()(T a, T b) const {
    if constexpr (kernels::is_half_v<T>) {
      return kernels::convert<T>((*this)(kernels::convert<float>(a), kernels::convert<float>(b)));
    } else {
      T r;
      if constexpr (std::is_floating_point_v<T>) {
        r = std::fmod(a, b);
      } else {
        if (b == 0) throw Error(ErrorCode::Runtime, "integer modulo by zero");
        // The most negative integer % -1 overflows (and traps on x86); the remainder is 0 anyway.
        if constexpr (std::is_signed_v<T>)
          if (b == T(-1)) return T(0);
        r = static_cast<T>(a % b);
      }
      if constexpr (std::is_signed_v<T> || std::is_floating_point_v<T>)
        if (!fmod && r != T(0) && (r < T(0)) != (b < T(0))) r = static_cast<T>(r + b);
      return r;
    }
  }

  bool fmod;
};

struct BitShiftOp {
  explicit BitShiftOp(const KernelInfo& info) {
    const std::string direction = info.attr_string("direction");
    if (direction != "LEFT" && direction != "RIGHT")
      throw Error(ErrorCode::InvalidModel, "direction must be LEFT or RIGHT, got '" + direction + "'");
    left = direction == "LEFT";
  }

  // Shifting by the bit width or more is undefined in C++; every bit is shifted out, so it is 0.
  template <class T>
  T operator()(T x, T shift) const {
    if (shift >= sizeof(T) * 8) return T(0);
    return static_cast<T>(left ? x << shift : x >> shift);
  }

  bool left;
};

using ModTypes = NumericTypes::append<Float16>;
using ModKernel = AttrBinaryKernel<ModOp, ModTypes>;
KILN_KERNEL(ModKernel, {.op = "Mod", .since = 10, .types = ModTypes::dtypes()});
using BitShiftKernel = AttrBinaryKernel<BitShiftOp, UnsignedTypes>;
KILN_KERNEL(BitShiftKernel, {.op = "BitShift", .since = 11, .types = UnsignedTypes::dtypes()});

}  // namespace
}  // namespace kiln::ops
