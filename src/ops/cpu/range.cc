// Range: start, start + delta, ... up to (excluding) limit; the count is ceil((limit - start) / delta).
#include <cmath>
#include <type_traits>

#include "ops/cpu/dispatch.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

template <class T>
T scalar_input(const Tensor& t, const char* name) {
  if (t.numel() != 1)
    throw Error(ErrorCode::InvalidArgument,
                std::string(name) + " must be a scalar, got shape " + shape_to_string(t.shape()));
  if (t.dtype() != dtype_of<T>())
    throw Error(ErrorCode::InvalidModel,
                std::string(name) + " is " + dtype_name(t.dtype()) + ", start is " + dtype_name(dtype_of<T>()));
  return t.data<T>()[0];
}

// Integer counts are computed exactly; floating ones as the spec's ceil of the quotient.
template <class T>
int64_t range_count(T start, T limit, T delta) {
  if constexpr (std::is_integral_v<T>) {
    const int64_t span = static_cast<int64_t>(limit) - static_cast<int64_t>(start);
    const int64_t quotient = span / delta;
    return std::max<int64_t>(0, quotient + (span % delta != 0 && (span > 0) == (delta > 0) ? 1 : 0));
  } else {
    const double count =
        std::ceil((static_cast<double>(limit) - static_cast<double>(start)) / static_cast<double>(delta));
    // NaN or infinite bounds have no count; a huge count fails at allocation with a clear message.
    if (!(count < 0x1p62)) throw Error(ErrorCode::InvalidArgument, "range has no finite element count");
    return count <= 0 ? 0 : static_cast<int64_t>(count);
  }
}

class RangeKernel final : public OpKernel {
 public:
  explicit RangeKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) const override {
    dispatch_dtype<float, double, int16_t, int32_t, int64_t>(ctx.input(0).dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T start = scalar_input<T>(ctx.input(0), "start");
      const T limit = scalar_input<T>(ctx.input(1), "limit");
      const T delta = scalar_input<T>(ctx.input(2), "delta");
      if (delta == T{0}) throw Error(ErrorCode::InvalidArgument, "delta must not be 0");
      const int64_t count = range_count(start, limit, delta);
      T* out = ctx.allocate_output(0, dtype_of<T>(), {count}).template data<T>();
      for (int64_t i = 0; i < count; ++i) out[i] = static_cast<T>(start + static_cast<T>(i) * delta);
    });
  }
};
KILN_KERNEL(RangeKernel, {.op = "Range",
                          .since = 11,
                          .types = {DType::Float32, DType::Float64, DType::Int16, DType::Int32, DType::Int64}});

}  // namespace
}  // namespace kiln::ops
