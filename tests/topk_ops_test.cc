// TopK against a stable sort of (value, index) pairs.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "test_util.h"

namespace kiln {
namespace {

using testing::run_node;

// The first k positions of each column after a stable sort by value: ties keep the lower index first.
std::pair<Tensor, Tensor> naive_topk(const Tensor& x, int64_t axis, int64_t k, bool largest) {
  const Shape& dims = x.shape();
  const int64_t n = dims[static_cast<size_t>(axis)];
  const int64_t outer = shape_numel(Shape(dims.begin(), dims.begin() + axis));
  const int64_t inner = shape_numel(Shape(dims.begin() + axis + 1, dims.end()));
  Shape out_shape = dims;
  out_shape[static_cast<size_t>(axis)] = k;
  Tensor values(DType::Float32, out_shape), indices(DType::Int64, out_shape);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const auto at = [&](int64_t m) { return x.data<float>()[(o * n + m) * inner + i]; };
      std::vector<int64_t> order(static_cast<size_t>(n));
      std::iota(order.begin(), order.end(), int64_t{0});
      std::stable_sort(order.begin(), order.end(),
                       [&](int64_t a, int64_t b) { return largest ? at(a) > at(b) : at(a) < at(b); });
      for (int64_t m = 0; m < k; ++m) {
        values.data<float>()[(o * k + m) * inner + i] = at(order[static_cast<size_t>(m)]);
        indices.data<int64_t>()[(o * k + m) * inner + i] = order[static_cast<size_t>(m)];
      }
    }
  }
  return {values, indices};
}

TEST(TopKOps, MatchesStableSortWithTies) {
  // Few distinct values, so that ties decide many positions.
  Tensor x(DType::Float32, {3, 13, 5});
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = static_cast<float>((i * 7919) % 5) - 2.f;
  for (const int64_t axis : {0, 1, 2, -2}) {
    const int64_t normalized = axis < 0 ? axis + 3 : axis;
    const int64_t n = x.dim(static_cast<size_t>(normalized));
    for (const int64_t k : {int64_t{0}, int64_t{1}, n / 2 + 1, n}) {
      for (const bool largest : {false, true}) {
        SCOPED_TRACE("axis " + std::to_string(axis) + " k " + std::to_string(k) + " largest " + std::to_string(largest));
        const auto out = run_node({.op = "TopK",
                                   .inputs = {x, Tensor::from_vector<int64_t>({1}, {k})},
                                   .attributes = {{"axis", axis}, {"largest", int64_t{largest}}},
                                   .opset = 11,
                                   .outputs = 2});
        const auto [values, indices] = naive_topk(x, normalized, k, largest);
        testing::expect_tensor_near(out[0], values);
        testing::expect_tensor_near(out[1], indices);
      }
    }
  }
}

TEST(TopKOps, Opset1TakesKAsAttribute) {
  const Tensor x = Tensor::from_vector<float>({2, 4}, {3, 1, 4, 1, 5, 9, 2, 6});
  const auto out = run_node({.op = "TopK", .inputs = {x}, .attributes = {{"k", int64_t{2}}}, .opset = 1, .outputs = 2});
  testing::expect_tensor_near(out[0], Tensor::from_vector<float>({2, 2}, {4, 3, 9, 6}));
  testing::expect_tensor_near(out[1], Tensor::from_vector<int64_t>({2, 2}, {2, 0, 1, 3}));
}

TEST(TopKOps, IntegersAndSmallest) {
  const Tensor x = Tensor::from_vector<int32_t>({5}, {7, -3, 7, -3, 0});
  const auto out = run_node({.op = "TopK",
                             .inputs = {x, Tensor::from_vector<int64_t>({1}, {3})},
                             .attributes = {{"largest", int64_t{0}}},
                             .opset = 11,
                             .outputs = 2});
  testing::expect_tensor_near(out[0], Tensor::from_vector<int32_t>({3}, {-3, -3, 0}));
  testing::expect_tensor_near(out[1], Tensor::from_vector<int64_t>({3}, {1, 3, 4}));
}

TEST(TopKOps, NaNRanksAboveEveryNumber) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = Tensor::from_vector<float>({4}, {1, nan, 3, 2});
  const Tensor k = Tensor::from_vector<int64_t>({1}, {2});
  const auto largest = run_node({.op = "TopK", .inputs = {x, k}, .opset = 11, .outputs = 2});
  testing::expect_tensor_near(largest[1], Tensor::from_vector<int64_t>({2}, {1, 2}));
  const auto smallest =
      run_node({.op = "TopK", .inputs = {x, k}, .attributes = {{"largest", int64_t{0}}}, .opset = 11, .outputs = 2});
  testing::expect_tensor_near(smallest[1], Tensor::from_vector<int64_t>({2}, {0, 3}));
}

TEST(TopKOps, BadKIsAnError) {
  const Tensor x = Tensor::from_vector<float>({3}, {1, 2, 3});
  try {
    run_node({.op = "TopK", .inputs = {x, Tensor::from_vector<int64_t>({1}, {4})}, .opset = 11, .outputs = 2});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("k = 4 is outside [0, 3]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(run_node({.op = "TopK", .inputs = {x, Tensor::from_vector<int32_t>({1}, {1})}, .opset = 11, .outputs = 2}),
               Error);
}

}  // namespace
}  // namespace kiln
