#include "shape_test_util.h"

namespace kiln::testing {
namespace {

Tensor shape_of(const Shape& shape, std::map<std::string, ir::Attribute> attributes) {
  return run_node(
      {.op = "Shape", .inputs = {Tensor(DType::Float32, shape)}, .attributes = std::move(attributes), .opset = 15})[0];
}

TEST(ShapeOps, StartAndEndWindowClampsLikeSlice) {
  const Shape s = {2, 3, 5, 7};
  expect_tensor_near(shape_of(s, {}), Tensor::from_vector<int64_t>({4}, {2, 3, 5, 7}));
  expect_tensor_near(shape_of(s, {{"start", int64_t{1}}, {"end", int64_t{-1}}}),
                     Tensor::from_vector<int64_t>({2}, {3, 5}));
  expect_tensor_near(shape_of(s, {{"start", int64_t{-10}}, {"end", int64_t{10}}}),
                     Tensor::from_vector<int64_t>({4}, {2, 3, 5, 7}));
  EXPECT_EQ(shape_of(s, {{"start", int64_t{3}}, {"end", int64_t{1}}}).shape(), (Shape{0}));
}

TEST(SizeOps, CountsElementsAsAnInt64Scalar) {
  expect_tensor_near(run_node({.op = "Size", .inputs = {Tensor(DType::Int32, {3, 0, 2})}})[0],
                     Tensor::scalar<int64_t>(0));
  expect_tensor_near(run_node({.op = "Size", .inputs = {Tensor(DType::Bool, {3, 5})}})[0], Tensor::scalar<int64_t>(15));
}

}  // namespace
}  // namespace kiln::testing
