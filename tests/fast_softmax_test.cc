// The vectorized Softmax and LogSoftmax rows (VecIsa::softmax_rows) against the reference at every
// CPU level, for opset 13's single axis and the older coerced-to-2-D semantics.
#include "level_sweep.h"

namespace kiln {
namespace {

using namespace kiln::testing;

class FastSoftmax : public LevelSweep {};

// Absolute and relative: LogSoftmax is x - (max + log sum), whose error is absolute (that of the
// shift) where the result is near 0.
constexpr double kSoftmaxTolerance = 1e-6;

// Attention-like scores: a wide range, and masked positions at -10000 as BERT's mask adds them.
Tensor scores(const Shape& shape, uint32_t seed) {
  Tensor t = random_tensor(shape, seed, -12.f, 12.f);
  for (int64_t i = 5; i < t.numel(); i += 7) t.data<float>()[i] = -10000.f;
  return t;
}

TEST_P(FastSoftmax, LastAxisMatchesReference) {
  const Shape shapes[] = {{1}, {3}, {13}, {5, 127}, {3, 1031}, {12, 128, 128}, {2, 3, 13}};
  uint32_t seed = 1;
  for (const char* op : {"Softmax", "LogSoftmax"})
    for (const Shape& shape : shapes) {
      const Tensor x = scores(shape, seed++);
      expect_matches_reference({.op = op, .inputs = {x}, .opset = 13}, kSoftmaxTolerance, kSoftmaxTolerance);
      expect_matches_reference({.op = op, .inputs = {x}, .attributes = {{"axis", int64_t{-1}}}, .opset = 13},
                               kSoftmaxTolerance, kSoftmaxTolerance);
    }
}

TEST_P(FastSoftmax, CoercedTwoDimensionalFormsMatchReference) {
  const Tensor x = scores({3, 13, 7, 5}, 3);
  for (const char* op : {"Softmax", "LogSoftmax"})
    for (int64_t axis : {0, 1, 2, 3, -1})
      expect_matches_reference({.op = op, .inputs = {x}, .attributes = {{"axis", axis}}, .opset = 11}, kSoftmaxTolerance,
                               kSoftmaxTolerance);
}

TEST_P(FastSoftmax, InnerAxesKeepTheReferencePath) {
  const Tensor x = scores({3, 13, 7}, 4);
  expect_matches_reference({.op = "Softmax", .inputs = {x}, .attributes = {{"axis", int64_t{1}}}, .opset = 13}, 0, 0);
}

TEST_P(FastSoftmax, RowsSumToOne) {
  const Tensor x = scores({7, 1000}, 5);
  const Tensor y = run_node({.op = "Softmax", .inputs = {x}, .opset = 13, .cpu_level = cpu_level_name(GetParam())})[0];
  for (int64_t r = 0; r < 7; ++r) {
    double sum = 0;
    for (int64_t i = 0; i < 1000; ++i) sum += y.data<float>()[r * 1000 + i];
    EXPECT_NEAR(sum, 1.0, 1e-5) << "row " << r;
  }
}

KILN_INSTANTIATE_LEVEL_SWEEP(FastSoftmax);

}  // namespace
}  // namespace kiln
