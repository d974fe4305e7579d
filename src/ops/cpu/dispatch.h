// Helpers shared by CPU kernels: dtype dispatch and axis handling.
#pragma once

#include <string>
#include <type_traits>

#include "kiln/tensor.h"

namespace kiln::ops {

template <class T>
struct TypeTag {
  using type = T;
};

// Calls fn(TypeTag<T>{}) for the T among Ts whose dtype is `dtype`; throws NotImplemented otherwise.
//   dispatch_dtype<float, int64_t>(x.dtype(), [&](auto tag) { using T = typename decltype(tag)::type; ... });
template <class... Ts, class F>
void dispatch_dtype(DType dtype, F&& fn) {
  const bool matched = ((dtype == dtype_of<Ts>() ? (fn(TypeTag<Ts>{}), true) : false) || ...);
  if (!matched) throw Error(ErrorCode::NotImplemented, std::string("dtype ") + dtype_name(dtype) + " is not supported here");
}

// Maps a possibly negative axis into [0, rank); throws InvalidModel when out of range.
inline int64_t normalize_axis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    throw Error(ErrorCode::InvalidModel, "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

}  // namespace kiln::ops
