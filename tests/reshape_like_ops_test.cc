#include "shape_test_util.h"

namespace kiln::testing {
namespace {

TEST(ReshapeOps, ZeroCopiesDimAndMinusOneInfersTheRestWithoutCopying) {
  const Tensor x = iota_tensor<float>({2, 3, 5});
  const auto out = run_node({.op = "Reshape", .inputs = {x, ints({0, -1})}});
  EXPECT_EQ(out[0].shape(), (Shape{2, 15}));
  EXPECT_EQ(out[0].raw(), x.raw()) << "Reshape must be a view of the input";
}

TEST(ReshapeOps, AllowZeroKeepsAZeroDim) {
  const Tensor x(DType::Float32, {0, 3});
  const auto kept =
      run_node({.op = "Reshape", .inputs = {x, ints({3, 0})}, .attributes = {{"allowzero", int64_t{1}}}, .opset = 14});
  EXPECT_EQ(kept[0].shape(), (Shape{3, 0}));
  // Without allowzero the 0 copies input dim 1 (3), and -1 resolves to 0.
  const auto copied = run_node({.op = "Reshape", .inputs = {x, ints({-1, 0})}, .opset = 14});
  EXPECT_EQ(copied[0].shape(), (Shape{0, 3}));
}

TEST(ReshapeOps, RejectsBadTargets) {
  const Tensor x = iota_tensor<float>({2, 3});
  expect_error_containing({.op = "Reshape", .inputs = {x, ints({-1, -1})}}, "more than one -1");
  expect_error_containing({.op = "Reshape", .inputs = {x, ints({4, -1})}}, "cannot reshape [2,3]");
  expect_error_containing({.op = "Reshape", .inputs = {x, ints({5})}}, "cannot reshape [2,3] to [5]");
}

TEST(FlattenOps, AxisSplitsTheShapeInTwo) {
  const Tensor x = iota_tensor<int32_t>({2, 3, 1, 5});
  const std::vector<std::pair<int64_t, Shape>> cases = {{0, {1, 30}}, {1, {2, 15}}, {3, {6, 5}},
                                                        {4, {30, 1}}, {-1, {6, 5}}, {-4, {1, 30}}};
  for (const auto& [axis, shape] : cases) {
    const auto out = run_node({.op = "Flatten", .inputs = {x}, .attributes = {{"axis", axis}}});
    EXPECT_EQ(out[0].shape(), shape) << "axis " << axis;
    expect_tensor_near(out[0], x.reshaped(shape));
  }
  expect_error_containing({.op = "Flatten", .inputs = {x}, .attributes = {{"axis", int64_t{5}}}}, "axis 5 is out of range");
}

TEST(SqueezeOps, WithoutAxesRemovesEverySizeOneDim) {
  const auto out = run_node({.op = "Squeeze", .inputs = {iota_tensor<float>({1, 3, 1, 13, 1})}});
  EXPECT_EQ(out[0].shape(), (Shape{3, 13}));
}

TEST(SqueezeOps, AxesAreAnAttributeBeforeOpset13AndAnInputFrom13) {
  const Tensor x = iota_tensor<float>({1, 3, 1, 5});
  const auto attr = run_node({.op = "Squeeze", .inputs = {x}, .attributes = {{"axes", Ints{-2}}}, .opset = 11});
  EXPECT_EQ(attr[0].shape(), (Shape{1, 3, 5}));
  const auto input = run_node({.op = "Squeeze", .inputs = {x, ints({2, 0})}, .opset = 13});
  EXPECT_EQ(input[0].shape(), (Shape{3, 5}));
  expect_error_containing({.op = "Squeeze", .inputs = {x, ints({1})}, .opset = 13}, "cannot squeeze axis 1");
}

TEST(UnsqueezeOps, AxesIndexTheOutputInAnyOrder) {
  const Tensor x = iota_tensor<float>({3, 5});
  const auto input = run_node({.op = "Unsqueeze", .inputs = {x, ints({4, 0, -3})}, .opset = 13});
  EXPECT_EQ(input[0].shape(), (Shape{1, 3, 1, 5, 1}));
  const auto attr = run_node({.op = "Unsqueeze", .inputs = {x}, .attributes = {{"axes", Ints{1}}}, .opset = 11});
  EXPECT_EQ(attr[0].shape(), (Shape{3, 1, 5}));
  expect_tensor_near(attr[0], x.reshaped({3, 1, 5}));
  expect_error_containing({.op = "Unsqueeze", .inputs = {x, ints({1, -3})}, .opset = 13}, "axis 1 is repeated");
}

TEST(IdentityOps, PassesTheInputThrough) {
  const Tensor x = Tensor::from_vector<bool>({3}, {true, false, true});
  expect_tensor_near(run_node({.op = "Identity", .inputs = {x}})[0], x);
}

}  // namespace
}  // namespace kiln::testing
