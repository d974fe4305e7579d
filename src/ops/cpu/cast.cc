// Cast (target dtype from the `to` attribute) and CastLike (target dtype from a second input's).
// Any of Kiln's dtypes converts to any other; strings are not supported.
#include "ops/cpu/cast.h"

#include <limits>
#include <string>

#include "kernels/cpu/convert.h"
#include "kernels/cpu/elementwise.h"
#include "ops/cpu/type_list.h"
#include "ops/registry.h"

namespace kiln::ops {

Tensor cast_tensor(const Tensor& x, DType to, ThreadPool& pool) {
  if (x.dtype() == to) return x;
  Tensor out(to, x.shape());
  AllTypes::dispatch(x.dtype(), [&](auto from_tag) {
    using From = typename decltype(from_tag)::type;
    AllTypes::dispatch(to, [&](auto to_tag) {
      using To = typename decltype(to_tag)::type;
      kernels::parallel_map(pool, x.data<From>(), out.data<To>(), x.numel(), kernels::convert<To, From>);
    });
  });
  return out;
}

DType dtype_attribute(const KernelInfo& info, const std::string& name) {
  const int64_t value = info.attr_int(name);
  if (value <= 0 || value > std::numeric_limits<int32_t>::max() || !is_known_dtype(static_cast<int32_t>(value)))
    throw Error(ErrorCode::InvalidModel, "attribute '" + name + "' is not a known dtype: " + std::to_string(value));
  const auto dtype = static_cast<DType>(value);
  if (dtype == DType::String) throw Error(ErrorCode::NotImplemented, "string tensors are not supported");
  return dtype;
}

namespace {

class CastKernel final : public OpKernel {
 public:
  explicit CastKernel(const KernelInfo& info) : to_(dtype_attribute(info, "to")) {}
  void compute(KernelContext& ctx) const override { ctx.set_output(0, cast_tensor(ctx.input(0), to_, ctx.pool())); }

 private:
  const DType to_;
};

class CastLikeKernel final : public OpKernel {
 public:
  explicit CastLikeKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) const override {
    ctx.set_output(0, cast_tensor(ctx.input(0), ctx.input(1).dtype(), ctx.pool()));
  }
};

// Opset 6 replaced the string-valued `to` of Cast-1 with a dtype number.
KILN_KERNEL(CastKernel, {.op = "Cast", .since = 6, .types = AllTypes::dtypes()});
KILN_KERNEL(CastLikeKernel, {.op = "CastLike", .since = 15, .types = AllTypes::dtypes()});

}  // namespace
}  // namespace kiln::ops
