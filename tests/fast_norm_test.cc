// The vectorized LayerNormalization rows and BatchNormalization scale-and-shift
// (VecIsa::layer_norm_rows, VecIsa::scale_shift) against the reference at every CPU level.
#include "level_sweep.h"

namespace kiln {
namespace {

using namespace kiln::testing;

class FastNorm : public LevelSweep {};

// Statistics accumulate in float instead of double, and the compiler may fuse multiply-adds.
constexpr double kNormTolerance = 1e-6;

TEST_P(FastNorm, LayerNormMatchesReference) {
  struct Case {
    Shape x;
    int64_t axis;
    Shape scale;
    bool bias;
  };
  const Case cases[] = {
      {{1, 1}, -1, {1}, true},        {{3, 13}, -1, {13}, true},       {{5, 127}, -1, {127}, false},
      {{128, 768}, -1, {768}, true},  {{2, 3, 1031}, -1, {1031}, true}, {{2, 13, 7}, -2, {13, 7}, true},
      {{2, 13, 7}, 1, {13, 1}, true}, {{2, 13, 7}, 1, {7}, false},      {{4, 1000}, 0, {4, 1000}, false},
  };
  uint32_t seed = 1;
  for (const Case& c : cases) {
    // An offset mean, as activations have, exercises the two-pass variance.
    const Tensor x = random_tensor(c.x, seed++, 2.f, 5.f);
    const Tensor scale = random_tensor(c.scale, seed++, 0.5f, 1.5f);
    const Tensor bias = c.bias ? random_tensor(c.scale, seed++) : Tensor();
    for (size_t outputs : {1, 3})
      expect_matches_reference({.op = "LayerNormalization",
                                .inputs = {x, scale, bias},
                                .attributes = {{"axis", c.axis}, {"epsilon", 1e-5f}},
                                .outputs = outputs,
                                .constant_inputs = {1, 2}},
                               kNormTolerance, kNormTolerance);
  }
}

TEST_P(FastNorm, BatchNormMatchesReferenceWithConstantAndRuntimeStatistics) {
  const Shape shapes[] = {{1, 1, 1, 1}, {2, 13, 7, 9}, {1, 64, 56, 56}, {3, 5}, {2, 3, 127}};
  uint32_t seed = 20;
  for (const Shape& shape : shapes) {
    const int64_t channels = shape[1];
    const Tensor x = random_tensor(shape, seed++, -3.f, 3.f);
    const Tensor scale = random_tensor({channels}, seed++), bias = random_tensor({channels}, seed++);
    const Tensor mean = random_tensor({channels}, seed++), var = random_tensor({channels}, seed++, 0.1f, 2.f);
    for (const std::vector<size_t>& constants : {std::vector<size_t>{1, 2, 3, 4}, std::vector<size_t>{}})
      expect_matches_reference({.op = "BatchNormalization",
                                .inputs = {x, scale, bias, mean, var},
                                .attributes = {{"epsilon", 1e-3f}},
                                .opset = 15,
                                .constant_inputs = constants},
                               kNormTolerance, kNormTolerance);
  }
}

TEST_P(FastNorm, BatchNormRejectsStatisticsOfTheWrongLength) {
  const Tensor x = random_tensor({1, 4, 3, 3}, 1), c3 = random_tensor({3}, 2, 0.5f, 1.f);
  expect_node_error({.op = "BatchNormalization",
                     .inputs = {x, c3, c3, c3, c3},
                     .opset = 15,
                     .constant_inputs = {1, 2, 3, 4},
                     .cpu_level = cpu_level_name(GetParam())},
                    ErrorCode::InvalidArgument, "scale must have shape [4]");
}

KILN_INSTANTIATE_LEVEL_SWEEP(FastNorm);

}  // namespace
}  // namespace kiln
