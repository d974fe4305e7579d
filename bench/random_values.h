// Seeded uniform values in [-1, 1) for the micro-benchmarks' operands.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

inline std::vector<float> random_values(int64_t n) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(rng);
  return v;
}
