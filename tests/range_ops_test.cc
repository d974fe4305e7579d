#include "shape_test_util.h"

namespace kiln::testing {
namespace {

template <class T>
Tensor range(T start, T limit, T delta) {
  return run_node({.op = "Range", .inputs = {Tensor::scalar(start), Tensor::scalar(limit), Tensor::scalar(delta)}})[0];
}

TEST(RangeOps, CountIsTheCeilingOfTheSpanOverDelta) {
  expect_tensor_near(range<float>(1.f, 2.f, 0.25f), Tensor::from_vector<float>({4}, {1, 1.25f, 1.5f, 1.75f}));
  expect_tensor_near(range<int32_t>(10, 4, -3), Tensor::from_vector<int32_t>({2}, {10, 7}));
  expect_tensor_near(range<int64_t>(0, 13, 4), Tensor::from_vector<int64_t>({4}, {0, 4, 8, 12}));
  EXPECT_EQ(range<int64_t>(5, 1, 2).shape(), (Shape{0}));
  EXPECT_EQ(range<double>(0, -1, 0.5).shape(), (Shape{0}));
}

TEST(RangeOps, RejectsZeroDeltaMixedDtypesAndInfiniteBounds) {
  expect_error_containing(
      {.op = "Range", .inputs = {Tensor::scalar<int32_t>(0), Tensor::scalar<int32_t>(3), Tensor::scalar<int32_t>(0)}},
      "delta must not be 0");
  expect_error_containing(
      {.op = "Range", .inputs = {Tensor::scalar<int32_t>(0), Tensor::scalar<int64_t>(3), Tensor::scalar<int32_t>(1)}},
      "limit is int64");
  expect_error_containing(
      {.op = "Range", .inputs = {Tensor::scalar<float>(0), Tensor::scalar<float>(INFINITY), Tensor::scalar<float>(1)}},
      "no finite element count");
}

}  // namespace
}  // namespace kiln::testing
