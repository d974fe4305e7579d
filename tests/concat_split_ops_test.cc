#include "shape_test_util.h"

namespace kiln::testing {
namespace {

// Input k holds values k * 100 + its own row-major index, so every output element names its source.
Tensor tagged(Shape shape, int32_t tag) {
  Tensor t = iota_tensor<int32_t>(std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i) t.data<int32_t>()[i] += tag * 100;
  return t;
}

TEST(ConcatOps, JoinsOddSizedPartsIncludingAnEmptyOne) {
  const Tensor a = tagged({2, 1, 3}, 1), b = tagged({2, 4, 3}, 2), empty = tagged({2, 0, 3}, 3);
  const auto out = run_node({.op = "Concat", .inputs = {a, empty, b}, .attributes = {{"axis", int64_t{-2}}}});
  ASSERT_EQ(out[0].shape(), (Shape{2, 5, 3}));
  const int32_t* y = out[0].data<int32_t>();
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t r = 0; r < 5; ++r)
      for (int64_t c = 0; c < 3; ++c) {
        const int32_t expected =
            r == 0 ? 100 + static_cast<int32_t>(n * 3 + c) : 200 + static_cast<int32_t>((n * 4 + r - 1) * 3 + c);
        EXPECT_EQ(y[(n * 5 + r) * 3 + c], expected) << n << "," << r << "," << c;
      }
}

TEST(ConcatOps, RejectsMismatchedShapes) {
  expect_error_containing(
      {.op = "Concat", .inputs = {tagged({2, 3}, 0), tagged({3, 3}, 1)}, .attributes = {{"axis", int64_t{1}}}},
      "does not match input 0");
}

TEST(SplitOps, SplitInputFromOpset13AllowsEmptyParts) {
  const Tensor x = iota_tensor<float>({2, 6});
  const auto out = run_node({.op = "Split",
                             .inputs = {x, Tensor::from_vector<int64_t>({3}, {1, 0, 5})},
                             .attributes = {{"axis", int64_t{1}}},
                             .opset = 13,
                             .outputs = 3});
  expect_tensor_near(out[0], Tensor::from_vector<float>({2, 1}, {0, 6}));
  EXPECT_EQ(out[1].shape(), (Shape{2, 0}));
  expect_tensor_near(out[2], Tensor::from_vector<float>({2, 5}, {1, 2, 3, 4, 5, 7, 8, 9, 10, 11}));
}

TEST(SplitOps, SplitAttributeBeforeOpset13) {
  const auto out = run_node({.op = "Split",
                             .inputs = {iota_tensor<int64_t>({5})},
                             .attributes = {{"split", Ints{2, 3}}},
                             .opset = 11,
                             .outputs = 2});
  expect_tensor_near(out[0], Tensor::from_vector<int64_t>({2}, {0, 1}));
  expect_tensor_near(out[1], Tensor::from_vector<int64_t>({3}, {2, 3, 4}));
}

TEST(SplitOps, ConcatOfTheEqualPartsGivesBackTheInput) {
  const Tensor x = random_tensor({3, 9, 7}, 13);
  const auto parts = run_node({.op = "Split", .inputs = {x}, .attributes = {{"axis", int64_t{1}}}, .outputs = 3});
  for (const auto& p : parts) EXPECT_EQ(p.shape(), (Shape{3, 3, 7}));
  const auto joined =
      run_node({.op = "Concat", .inputs = {parts[0], parts[1], parts[2]}, .attributes = {{"axis", int64_t{1}}}});
  expect_tensor_near(joined[0], x, 0, 0);
}

TEST(SplitOps, NumOutputsInOpset18LetsTheLastPartBeSmaller) {
  const auto out = run_node({.op = "Split",
                             .inputs = {iota_tensor<float>({7})},
                             .attributes = {{"num_outputs", int64_t{3}}},
                             .opset = 18,
                             .outputs = 3});
  EXPECT_EQ(out[0].shape(), (Shape{3}));
  EXPECT_EQ(out[1].shape(), (Shape{3}));
  expect_tensor_near(out[2], Tensor::from_vector<float>({1}, {6}));
}

TEST(SplitOps, RejectsSizesThatDoNotCoverTheAxis) {
  expect_error_containing({.op = "Split",
                     .inputs = {iota_tensor<float>({5}), Tensor::from_vector<int64_t>({2}, {2, 2})},
                     .opset = 13,
                     .outputs = 2},
                    "do not add up to the axis size 5");
  expect_error_containing({.op = "Split", .inputs = {iota_tensor<float>({5})}, .opset = 13, .outputs = 2},
                    "cannot be split evenly");
}

}  // namespace
}  // namespace kiln::testing
