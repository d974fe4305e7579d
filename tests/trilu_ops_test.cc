#include "shape_test_util.h"

namespace kiln::testing {
namespace {

TEST(TriluOps, KeepsTheTriangleOfEveryMatrixForAnyDiagonal) {
  const Tensor x = random_tensor({2, 3, 5}, 31);
  for (const int64_t upper : {0, 1})
    for (const int64_t k : {-4, -1, 0, 2, 7}) {
      const auto out =
          run_node({.op = "Trilu", .inputs = {x, Tensor::scalar<int64_t>(k)}, .attributes = {{"upper", upper}}});
      Tensor expected = x.clone();
      for (int64_t m = 0; m < 2; ++m)
        for (int64_t i = 0; i < 3; ++i)
          for (int64_t j = 0; j < 5; ++j)
            if (upper ? j - i < k : j - i > k) expected.data<float>()[(m * 3 + i) * 5 + j] = 0;
      expect_tensor_near(out[0], expected, 0, 0);
    }
}

TEST(TriluOps, DefaultIsUpperWithTheMainDiagonal) {
  const auto out = run_node({.op = "Trilu", .inputs = {iota_tensor<int64_t>({3, 2})}});
  expect_tensor_near(out[0], Tensor::from_vector<int64_t>({3, 2}, {0, 1, 0, 3, 0, 0}));
}

TEST(TriluOps, RejectsVectors) { expect_error_containing({.op = "Trilu", .inputs = {iota_tensor<float>({4})}}, "rank >= 2"); }

}  // namespace
}  // namespace kiln::testing
