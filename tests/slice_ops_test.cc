#include "shape_test_util.h"

namespace kiln::testing {
namespace {

TEST(SliceOps, StepsAndNegativeStepsMatchNaiveLoops) {
  const Tensor x = random_tensor({7, 13, 5}, 17);
  // axis 1: 11, 8, 5, 2 (start -2 -> 11, step -3); axis 0: 1, 3, 5 (end clamps to 7).
  const auto out = run_node({.op = "Slice", .inputs = {x, ints({-2, 1}), ints({0, 100}), ints({1, 0}), ints({-3, 2})}});
  ASSERT_EQ(out[0].shape(), (Shape{3, 4, 5}));
  const Ints rows = {1, 3, 5}, cols = {11, 8, 5, 2};
  for (size_t r = 0; r < rows.size(); ++r)
    for (size_t c = 0; c < cols.size(); ++c)
      for (int64_t k = 0; k < 5; ++k)
        EXPECT_EQ(out[0].data<float>()[(static_cast<int64_t>(r) * 4 + static_cast<int64_t>(c)) * 5 + k],
                  x.data<float>()[(rows[r] * 13 + cols[c]) * 5 + k]);
}

TEST(SliceOps, NegativeStepRunsToTheFrontWhenEndIsVeryNegative) {
  const auto out = run_node(
      {.op = "Slice", .inputs = {iota_tensor<int32_t>({5}), ints({10}), ints({INT64_MIN}), ints({0}), ints({-1})}});
  expect_tensor_near(out[0], Tensor::from_vector<int32_t>({5}, {4, 3, 2, 1, 0}));
}

TEST(SliceOps, EmptyWhenStartIsPastEnd) {
  const auto out = run_node({.op = "Slice", .inputs = {iota_tensor<float>({4, 3}), ints({3}), ints({1})}});
  EXPECT_EQ(out[0].shape(), (Shape{0, 3}));
}

TEST(SliceOps, AttributesBeforeOpset10) {
  const auto out = run_node({.op = "Slice",
                             .inputs = {iota_tensor<float>({3, 4})},
                             .attributes = {{"starts", Ints{1, -3}}, {"ends", Ints{3, -1}}, {"axes", Ints{0, 1}}},
                             .opset = 9});
  expect_tensor_near(out[0], Tensor::from_vector<float>({2, 2}, {5, 6, 9, 10}));
}

TEST(SliceOps, RejectsZeroStepAndMismatchedLengths) {
  const Tensor x = iota_tensor<float>({4});
  expect_error_containing({.op = "Slice", .inputs = {x, ints({0}), ints({4}), ints({0}), ints({0})}}, "step must not be 0");
  expect_error_containing({.op = "Slice", .inputs = {x, ints({0, 1}), ints({4})}}, "must have the same length");
}

}  // namespace
}  // namespace kiln::testing
