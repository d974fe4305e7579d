// Seeded uniform float32 tensors, apart from test_util.h so that tests of code below the runtime
// can use them without linking it.
#pragma once

#include <random>
#include <utility>
#include <vector>

#include "kiln/tensor.h"

namespace kiln::testing {

inline Tensor random_tensor(Shape shape, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  Tensor t(DType::Float32, std::move(shape));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

// A float32 tensor's elements, for comparing whole tensors exactly.
inline std::vector<float> float_values(const Tensor& t) { return {t.data<float>(), t.data<float>() + t.numel()}; }

}  // namespace kiln::testing
