#include "shape_test_util.h"

namespace kiln::testing {
namespace {

// Sums along `axis` of a [3, 4, 5] tensor by direct summation of the selected range.
Tensor naive_cumsum(const Tensor& x, int64_t axis, bool exclusive, bool reverse) {
  const Shape s = x.shape();
  Tensor out(DType::Float32, s);
  for (int64_t a = 0; a < s[0]; ++a)
    for (int64_t b = 0; b < s[1]; ++b)
      for (int64_t c = 0; c < s[2]; ++c) {
        int64_t idx[3] = {a, b, c};
        const int64_t at = idx[axis], n = s[static_cast<size_t>(axis)];
        double sum = 0;
        for (int64_t t = 0; t < n; ++t) {
          const bool included = reverse ? (exclusive ? t > at : t >= at) : (exclusive ? t < at : t <= at);
          if (!included) continue;
          idx[axis] = t;
          sum += x.data<float>()[(idx[0] * s[1] + idx[1]) * s[2] + idx[2]];
        }
        out.data<float>()[(a * s[1] + b) * s[2] + c] = static_cast<float>(sum);
      }
  return out;
}

TEST(CumSumOps, EveryAxisAndModeMatchesDirectSums) {
  const Tensor x = random_tensor({3, 4, 5}, 37);
  for (int64_t axis = 0; axis < 3; ++axis)
    for (const int64_t exclusive : {0, 1})
      for (const int64_t reverse : {0, 1}) {
        const auto out = run_node({.op = "CumSum",
                                   .inputs = {x, Tensor::scalar<int32_t>(static_cast<int32_t>(axis - 3))},
                                   .attributes = {{"exclusive", exclusive}, {"reverse", reverse}}});
        expect_tensor_near(out[0], naive_cumsum(x, axis, exclusive, reverse));
      }
}

TEST(CumSumOps, IntegerInput) {
  const auto out = run_node({.op = "CumSum",
                             .inputs = {Tensor::from_vector<int64_t>({4}, {1, 2, 3, 4}), Tensor::scalar<int64_t>(0)},
                             .attributes = {{"exclusive", int64_t{1}}}});
  expect_tensor_near(out[0], Tensor::from_vector<int64_t>({4}, {0, 1, 3, 6}));
}

TEST(CumSumOps, RejectsANonScalarAxis) {
  expect_error_containing({.op = "CumSum", .inputs = {iota_tensor<float>({2, 2}), Tensor::from_vector<int64_t>({2}, {0, 1})}},
                    "axis must be a scalar");
}

}  // namespace
}  // namespace kiln::testing
