// Helpers for the shape-op tests: tensors whose elements are all distinct (so a misplaced element
// shows), and integer-list inputs.
#pragma once

#include <vector>

#include "test_util.h"

namespace kiln::testing {

using Ints = std::vector<int64_t>;

// A 1-D int64 tensor: the shapes, axes, pads and repeats that shape ops take as inputs.
inline Tensor ints(const Ints& values) {
  return Tensor::from_vector<int64_t>({static_cast<int64_t>(values.size())}, values);
}

// Elements 0, 1, 2, ... in row-major order.
template <class T>
Tensor iota_tensor(Shape shape) {
  Tensor t(dtype_of<T>(), std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i) t.data<T>()[i] = static_cast<T>(i);
  return t;
}

}  // namespace kiln::testing
