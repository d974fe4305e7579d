// Einsum against explicit loops for matmul, batched and broadcast matmul, traces and reductions.
#include "test_util.h"

namespace kiln {
namespace {

using testing::expect_error_containing;
using testing::run_node;

Tensor einsum(const std::string& equation, std::vector<Tensor> inputs) {
  return run_node({.op = "Einsum", .inputs = std::move(inputs), .attributes = {{"equation", equation}}, .opset = 12})[0];
}

// C[b] = A[b] * B[b] for row-major [batch, m, k] x [batch, k, n], where a batch index of an operand
// whose batch is 1 is taken as 0 (broadcast).
Tensor naive_batched_matmul(const Tensor& a, const Tensor& b, int64_t batch, int64_t m, int64_t k, int64_t n,
                            Shape out_shape) {
  const bool a_broadcast = a.numel() == m * k, b_broadcast = b.numel() == k * n;
  Tensor c(DType::Float32, std::move(out_shape));
  for (int64_t s = 0; s < batch; ++s)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0;
        for (int64_t p = 0; p < k; ++p)
          sum += static_cast<double>(a.data<float>()[(a_broadcast ? 0 : s) * m * k + i * k + p]) *
                 b.data<float>()[(b_broadcast ? 0 : s) * k * n + p * n + j];
        c.data<float>()[(s * m + i) * n + j] = static_cast<float>(sum);
      }
  return c;
}

TEST(EinsumOps, MatmulAndBatchedMatmul) {
  const Tensor a = testing::random_tensor({3, 5}, 1), b = testing::random_tensor({5, 7}, 2);
  testing::expect_tensor_near(einsum("ij,jk->ik", {a, b}), naive_batched_matmul(a, b, 1, 3, 5, 7, {3, 7}));
  const Tensor ba = testing::random_tensor({4, 3, 5}, 3), bb = testing::random_tensor({4, 5, 2}, 4);
  testing::expect_tensor_near(einsum("bij, bjk -> bik", {ba, bb}), naive_batched_matmul(ba, bb, 4, 3, 5, 2, {4, 3, 2}));
}

TEST(EinsumOps, EllipsisBroadcastsBatchDims) {
  const Tensor a = testing::random_tensor({3, 2, 5}, 5), b = testing::random_tensor({5, 4}, 6);
  testing::expect_tensor_near(einsum("...ij,...jk->...ik", {a, b}), naive_batched_matmul(a, b, 3, 2, 5, 4, {3, 2, 4}));
  // Implicit output: the ellipsis dims, then the letters used once (i, k) in alphabetical order.
  testing::expect_tensor_near(einsum("...ij,jk", {a, b}), naive_batched_matmul(a, b, 3, 2, 5, 4, {3, 2, 4}));
}

TEST(EinsumOps, DiagonalTraceTransposeAndSums) {
  const Tensor x = Tensor::from_vector<float>({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  testing::expect_tensor_near(einsum("ii->i", {x}), Tensor::from_vector<float>({3}, {1, 5, 9}));
  testing::expect_tensor_near(einsum("ii", {x}), Tensor::scalar<float>(15));
  testing::expect_tensor_near(einsum("ba", {x}), Tensor::from_vector<float>({3, 3}, {1, 4, 7, 2, 5, 8, 3, 6, 9}));
  testing::expect_tensor_near(einsum("ij->j", {x}), Tensor::from_vector<float>({3}, {12, 15, 18}));
  testing::expect_tensor_near(einsum("ij->", {x}), Tensor::scalar<float>(45));
}

TEST(EinsumOps, IntegerOuterAndInnerProducts) {
  const Tensor u = Tensor::from_vector<int64_t>({2}, {2, -3}), v = Tensor::from_vector<int64_t>({3}, {1, 10, 100});
  testing::expect_tensor_near(einsum("i,j->ij", {u, v}), Tensor::from_vector<int64_t>({2, 3}, {2, 20, 200, -3, -30, -300}));
  testing::expect_tensor_near(einsum("i,i", {u, u}), Tensor::scalar<int64_t>(13));
}

TEST(EinsumOps, MismatchedOperandsAreErrors) {
  const Tensor x = testing::random_tensor({2, 3}, 7), y = testing::random_tensor({4, 5}, 8);
  expect_error_containing({.op = "Einsum", .inputs = {x}, .attributes = {{"equation", std::string("ijk->i")}}, .opset = 12},
                          "operand 0 has rank 2 but its term names 3 axes");
  expect_error_containing({.op = "Einsum", .inputs = {x, y}, .attributes = {{"equation", std::string("ij,jk->ik")}}, .opset = 12},
                          "label 'j' has sizes 3 and 4");
  expect_error_containing({.op = "Einsum", .inputs = {x}, .attributes = {{"equation", std::string("ij->iz")}}, .opset = 12},
                          "output label 'z' is not in any input");
}

}  // namespace
}  // namespace kiln
