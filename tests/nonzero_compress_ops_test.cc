#include "shape_test_util.h"

namespace kiln::testing {
namespace {

TEST(NonZeroOps, ListsCoordinatesInRowMajorOrder) {
  const Tensor x = Tensor::from_vector<float>({2, 3}, {0, 1.5f, 0, -2, 0, 0.1f});
  expect_tensor_near(run_node({.op = "NonZero", .inputs = {x}})[0],
                     Tensor::from_vector<int64_t>({2, 3}, {0, 1, 1, 1, 0, 2}));
  const Tensor none = Tensor::zeros(DType::Int32, {4});
  EXPECT_EQ(run_node({.op = "NonZero", .inputs = {none}})[0].shape(), (Shape{1, 0}));
}

TEST(CompressOps, SelectsSlicesAlongTheAxisOrOfTheFlattenedInput) {
  const Tensor x = iota_tensor<int32_t>({3, 2});
  const Tensor condition = Tensor::from_vector<bool>({2}, {false, true});
  const auto along = run_node({.op = "Compress", .inputs = {x, condition}, .attributes = {{"axis", int64_t{0}}}});
  expect_tensor_near(along[0], Tensor::from_vector<int32_t>({1, 2}, {2, 3}));
  const auto flat =
      run_node({.op = "Compress", .inputs = {x, Tensor::from_vector<bool>({4}, {true, false, true, true})}});
  expect_tensor_near(flat[0], Tensor::from_vector<int32_t>({3}, {0, 2, 3}));
}

TEST(CompressOps, RejectsAConditionLongerThanTheAxis) {
  expect_error_containing(
      {.op = "Compress", .inputs = {iota_tensor<float>({2}), Tensor::from_vector<bool>({3}, {true, true, true})}},
      "condition has 3 entries for an axis of size 2");
}

}  // namespace
}  // namespace kiln::testing
