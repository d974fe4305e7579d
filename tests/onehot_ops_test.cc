#include "shape_test_util.h"

namespace kiln::testing {
namespace {

TEST(OneHotOps, NegativeIndicesCountFromDepthAndOutOfRangeStaysOff) {
  const Tensor indices = Tensor::from_vector<int64_t>({3}, {0, -1, 5});
  const Tensor values = Tensor::from_vector<float>({2}, {-1, 2});
  const auto last = run_node({.op = "OneHot", .inputs = {indices, Tensor::scalar<float>(3), values}, .opset = 11});
  expect_tensor_near(last[0], Tensor::from_vector<float>({3, 3}, {2, -1, -1, -1, -1, 2, -1, -1, -1}));
  const auto first = run_node({.op = "OneHot",
                               .inputs = {indices, Tensor::scalar<float>(3), values},
                               .attributes = {{"axis", int64_t{0}}},
                               .opset = 11});
  expect_tensor_near(first[0], Tensor::from_vector<float>({3, 3}, {2, -1, -1, -1, -1, -1, -1, 2, -1}));
}

TEST(OneHotOps, DepthAxisInTheMiddleWithIntegerValues) {
  const Tensor indices = Tensor::from_vector<int32_t>({2, 2}, {1, 0, 2, 1});
  const auto out = run_node({.op = "OneHot",
                             .inputs = {indices, Tensor::scalar<int64_t>(3), Tensor::from_vector<int64_t>({2}, {0, 1})},
                             .attributes = {{"axis", int64_t{1}}},
                             .opset = 11});
  ASSERT_EQ(out[0].shape(), (Shape{2, 3, 2}));
  // out[i][d][j] = 1 where indices[i][j] == d
  expect_tensor_near(out[0], Tensor::from_vector<int64_t>({2, 3, 2}, {0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0}));
}

TEST(OneHotOps, RejectsNonPositiveDepth) {
  expect_error_containing({.op = "OneHot",
                     .inputs = {Tensor::from_vector<int64_t>({1}, {0}), Tensor::scalar<int64_t>(0),
                                Tensor::from_vector<float>({2}, {0, 1})},
                     .opset = 11},
                    "depth must be positive");
}

}  // namespace
}  // namespace kiln::testing
