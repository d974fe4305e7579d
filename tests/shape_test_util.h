// Helpers for the shape-op tests: tensors whose elements are all distinct (so a misplaced element
// shows), and asserting the message of an expected error.
#pragma once

#include <string>
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

// Runs the node and asserts that it throws a kiln::Error whose message contains `text`.
inline void expect_node_error(const NodeSpec& spec, const std::string& text) {
  try {
    run_node(spec);
    ADD_FAILURE() << "expected an error containing '" << text << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

}  // namespace kiln::testing
