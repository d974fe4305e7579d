// Where: y = condition ? x : y, broadcasting all three inputs together.
#include <cstdint>

#include "kernels/cpu/elementwise.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

class WhereKernel final : public OpKernel {
 public:
  explicit WhereKernel(const KernelInfo&) {}

  void compute(KernelContext& ctx) const override {
    const Tensor& condition = ctx.input(0);
    const Tensor& x = ctx.input(1);
    const Tensor& y = ctx.input(2);
    if (condition.dtype() != DType::Bool)
      throw Error(ErrorCode::InvalidModel, std::string("condition must be bool, got ") + dtype_name(condition.dtype()));
    if (x.dtype() != y.dtype())
      throw Error(ErrorCode::InvalidModel, std::string("X is ") + dtype_name(x.dtype()) + " but Y is " +
                                               dtype_name(y.dtype()));
    const Shape shape =
        kernels::broadcast_shapes(kernels::broadcast_shapes(condition.shape(), x.shape()), y.shape());
    Tensor& out = ctx.allocate_output(0, x.dtype(), shape);
    // Where only copies elements, so one instantiation per element size serves every dtype.
    switch (dtype_size(x.dtype())) {
      case 1: return select<uint8_t>(condition, x, y, out);
      case 2: return select<uint16_t>(condition, x, y, out);
      case 4: return select<uint32_t>(condition, x, y, out);
      case 8: return select<uint64_t>(condition, x, y, out);
      default: throw Error(ErrorCode::NotImplemented, std::string("dtype ") + dtype_name(x.dtype()) + " is not supported here");
    }
  }

 private:
  template <class Bits>
  static void select(const Tensor& condition, const Tensor& x, const Tensor& y, Tensor& out) {
    kernels::broadcast_map<Bits, bool, Bits, Bits>(out, {&condition, &x, &y},
                                                   [](bool c, Bits a, Bits b) { return c ? a : b; });
  }
};

KILN_KERNEL(WhereKernel, {.op = "Where", .since = 9, .type_input = 1});

}  // namespace
}  // namespace kiln::ops
