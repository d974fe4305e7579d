// Named sets of element types, so that a kernel's dtype dispatch and its registration line are
// written from one list and cannot drift apart:
//
//   using Kernel = UnaryKernel<AbsOp, NumericTypes>;                      // dispatches over the list
//   KILN_KERNEL(Kernel, {.op = "Abs", .since = 6, .types = NumericTypes::dtypes()});
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "ops/cpu/dispatch.h"

namespace kiln::ops {

template <class... Ts>
struct TypeList {
  static std::vector<DType> dtypes() { return {dtype_of<Ts>()...}; }
  // dispatch_dtype over this list's types.
  template <class F>
  static void dispatch(DType dtype, F&& fn) {
    dispatch_dtype<Ts...>(dtype, std::forward<F>(fn));
  }
  template <class... Us>
  using append = TypeList<Ts..., Us...>;
};

using FloatTypes = TypeList<float, double>;
using SignedTypes = FloatTypes::append<int8_t, int16_t, int32_t, int64_t>;
using NumericTypes = SignedTypes::append<uint8_t, uint16_t, uint32_t, uint64_t>;
using UnsignedTypes = TypeList<uint8_t, uint16_t, uint32_t, uint64_t>;
// The element types of 8-bit quantized tensors.
using QuantizedTypes = TypeList<uint8_t, int8_t>;
// Every dtype a Kiln tensor can hold.
using AllTypes = NumericTypes::append<bool, Float16, BFloat16>;

}  // namespace kiln::ops
