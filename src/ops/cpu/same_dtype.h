// Inputs that one type constraint ties together (T for both A and B) must share a dtype.
#pragma once

#include <string>

#include "kiln/tensor.h"

namespace kiln::ops {

inline void require_same_dtype(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype())
    throw Error(ErrorCode::InvalidModel, std::string("input dtypes differ: ") + dtype_name(a.dtype()) + " and " +
                                             dtype_name(b.dtype()));
}

}  // namespace kiln::ops
