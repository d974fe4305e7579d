// Gemm, MatMul, MatMulInteger and the Softmax family against naive loops in double, on odd sizes.
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "test_util.h"

namespace kiln {
namespace {

using testing::random_tensor;
using testing::run_node;

// op(A) * op(B) for 2-D float tensors, accumulated in double.
Tensor naive_gemm(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b, float alpha) {
  const int64_t M = trans_a ? a.dim(1) : a.dim(0), K = trans_a ? a.dim(0) : a.dim(1);
  const int64_t N = trans_b ? b.dim(0) : b.dim(1);
  Tensor y(DType::Float32, {M, N});
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double sum = 0;
      for (int64_t k = 0; k < K; ++k) {
        const double av = trans_a ? a.value_as_double(k * M + i) : a.value_as_double(i * K + k);
        const double bv = trans_b ? b.value_as_double(j * K + k) : b.value_as_double(k * N + j);
        sum += av * bv;
      }
      y.data<float>()[i * N + j] = static_cast<float>(alpha * sum);
    }
  return y;
}

TEST(DenseOps, GemmAllTransposesWithBroadcastBias) {
  const int64_t M = 13, N = 7, K = 5;
  const Tensor bias = random_tensor({N}, 3);
  for (int trans_a = 0; trans_a < 2; ++trans_a)
    for (int trans_b = 0; trans_b < 2; ++trans_b) {
      const Tensor a = random_tensor(trans_a ? Shape{K, M} : Shape{M, K}, 1);
      const Tensor b = random_tensor(trans_b ? Shape{N, K} : Shape{K, N}, 2);
      const auto out = run_node({.op = "Gemm",
                                 .inputs = {a, b, bias},
                                 .attributes = {{"transA", int64_t{trans_a}}, {"transB", int64_t{trans_b}},
                                                {"alpha", 0.5f}, {"beta", 2.f}},
                                 .opset = 13});
      Tensor expected = naive_gemm(a, b, trans_a, trans_b, 0.5f);
      for (int64_t i = 0; i < M * N; ++i) expected.data<float>()[i] += 2.f * bias.data<float>()[i % N];
      SCOPED_TRACE("transA=" + std::to_string(trans_a) + " transB=" + std::to_string(trans_b));
      testing::expect_tensor_near(out[0], expected);
    }
}

TEST(DenseOps, GemmBiasShapes) {
  const int64_t M = 3, N = 13, K = 1;
  const Tensor a = random_tensor({M, K}, 4), b = random_tensor({K, N}, 5);
  const Tensor product = naive_gemm(a, b, false, false, 1.f);
  // Each C shape, and the C element that lands on output (i, j).
  const std::vector<std::pair<Shape, std::function<int64_t(int64_t, int64_t)>>> cases = {
      {{}, [](int64_t, int64_t) { return int64_t{0}; }},
      {{1}, [](int64_t, int64_t) { return int64_t{0}; }},
      {{M, 1}, [](int64_t i, int64_t) { return i; }},
      {{1, N}, [](int64_t, int64_t j) { return j; }},
      {{M, N}, [&](int64_t i, int64_t j) { return i * N + j; }},
  };
  for (const auto& [c_shape, c_index] : cases) {
    const Tensor c = random_tensor(c_shape, 6);
    const auto out = run_node({.op = "Gemm", .inputs = {a, b, c}, .opset = 11});
    Tensor expected = product.clone();
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) expected.data<float>()[i * N + j] += c.data<float>()[c_index(i, j)];
    SCOPED_TRACE("C " + shape_to_string(c_shape));
    testing::expect_tensor_near(out[0], expected);
  }
  const auto no_bias = run_node({.op = "Gemm", .inputs = {a, b, Tensor()}, .opset = 13});
  testing::expect_tensor_near(no_bias[0], product);
}

TEST(DenseOps, GemmRejectsBadShapes) {
  const Tensor a = random_tensor({3, 4}, 1), b = random_tensor({5, 2}, 2);
  try {
    run_node({.op = "Gemm", .inputs = {a, b}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("inner dimensions differ"), std::string::npos) << e.what();
  }
  // Opset 6 without broadcast=1 needs C to be exactly [M, N].
  const Tensor b2 = random_tensor({4, 2}, 2), c = random_tensor({2}, 3);
  try {
    run_node({.op = "Gemm", .inputs = {a, b2, c}, .opset = 6});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot be broadcast"), std::string::npos) << e.what();
  }
  const auto broadcast = run_node({.op = "Gemm", .inputs = {a, b2, c}, .attributes = {{"broadcast", int64_t{1}}}, .opset = 6});
  EXPECT_EQ(broadcast[0].shape(), (Shape{3, 2}));
}

// numpy matmul on [batch..., M, K] x [batch..., K, N] with per-batch offsets given by the test.
template <class T>
Tensor naive_batched_matmul(const Tensor& a, const Tensor& b, Shape out_shape, int64_t batches, int64_t M, int64_t N,
                            int64_t K, const std::function<int64_t(int64_t)>& a_batch,
                            const std::function<int64_t(int64_t)>& b_batch) {
  Tensor y(dtype_of<T>(), std::move(out_shape));
  for (int64_t t = 0; t < batches; ++t)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double sum = 0;
        for (int64_t k = 0; k < K; ++k)
          sum += a.value_as_double(a_batch(t) * M * K + i * K + k) * b.value_as_double(b_batch(t) * K * N + k * N + j);
        y.data<T>()[(t * M + i) * N + j] = static_cast<T>(sum);
      }
  return y;
}

TEST(DenseOps, MatMulBroadcastsBatches) {
  // [2,1,M,K] x [3,K,N] -> [2,3,M,N]: A repeats over B's batch, B over A's.
  const int64_t M = 13, N = 7, K = 9;
  const Tensor a = random_tensor({2, 1, M, K}, 7), b = random_tensor({3, K, N}, 8);
  const auto out = run_node({.op = "MatMul", .inputs = {a, b}});
  const Tensor expected = naive_batched_matmul<float>(
      a, b, {2, 3, M, N}, 6, M, N, K, [](int64_t t) { return t / 3; }, [](int64_t t) { return t % 3; });
  testing::expect_tensor_near(out[0], expected);
}

TEST(DenseOps, MatMulPromotesVectors) {
  const int64_t N = 5, K = 13;
  const Tensor v = random_tensor({K}, 9), m = random_tensor({K, N}, 10), batched = random_tensor({3, N, K}, 11);
  const auto first = [](int64_t) { return int64_t{0}; };
  const auto same = [](int64_t t) { return t; };
  // [K] x [K, N] -> [N]
  testing::expect_tensor_near(run_node({.op = "MatMul", .inputs = {v, m}})[0],
                              naive_batched_matmul<float>(v, m, {N}, 1, 1, N, K, first, first));
  // [3, N, K] x [K] -> [3, N]
  testing::expect_tensor_near(run_node({.op = "MatMul", .inputs = {batched, v}})[0],
                              naive_batched_matmul<float>(batched, v, {3, N}, 3, N, 1, K, same, first));
  // [K] x [K] -> scalar
  testing::expect_tensor_near(run_node({.op = "MatMul", .inputs = {v, v}})[0],
                              naive_batched_matmul<float>(v, v, {}, 1, 1, 1, K, first, first));
}

TEST(DenseOps, MatMulIntegerTypes) {
  const Tensor a = Tensor::from_vector<int64_t>({2, 3}, {1, -2, 3, 4, 5, -6});
  const Tensor b = Tensor::from_vector<int64_t>({3, 1}, {7, 8, -9});
  const auto out = run_node({.op = "MatMul", .inputs = {a, b}});
  testing::expect_tensor_near(out[0], Tensor::from_vector<int64_t>({2, 1}, {7 - 16 - 27, 28 + 40 + 54}));
  const auto out32 = run_node({.op = "MatMul", .inputs = {Tensor::from_vector<int32_t>({1, 2}, {3, 4}),
                                                          Tensor::from_vector<int32_t>({2, 2}, {1, 2, 3, 4})}});
  testing::expect_tensor_near(out32[0], Tensor::from_vector<int32_t>({1, 2}, {15, 22}));
}

TEST(DenseOps, MatMulRejectsMismatchedInnerDims) {
  try {
    run_node({.op = "MatMul", .inputs = {random_tensor({2, 3, 4}, 1), random_tensor({5, 6}, 2)}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("inner dimensions differ"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("MatMul_under_test"), std::string::npos) << e.what();
  }
}

TEST(DenseOps, MatMulIntegerSubtractsZeroPoints) {
  // A uint8 with one zero point per row, B int8 with one per column.
  const Tensor a = Tensor::from_vector<uint8_t>({2, 3}, {10, 20, 30, 200, 100, 0});
  const Tensor a_zero = Tensor::from_vector<uint8_t>({2}, {10, 100});
  const Tensor b = Tensor::from_vector<int8_t>({3, 2}, {1, -1, 2, -2, 3, -128});
  const Tensor b_zero = Tensor::from_vector<int8_t>({2}, {1, -2});
  const auto out = run_node({.op = "MatMulInteger", .inputs = {a, b, a_zero, b_zero}});
  // A - za = [[0, 10, 20], [100, 0, -100]]; B - zb = [[0, 1], [1, 0], [2, -126]].
  testing::expect_tensor_near(out[0], Tensor::from_vector<int32_t>({2, 2}, {50, -2520, -200, 12700}));
  const auto no_zero = run_node({.op = "MatMulInteger", .inputs = {a, b}});
  testing::expect_tensor_near(no_zero[0], Tensor::from_vector<int32_t>({2, 2}, {140, -3890, 400, -400}));
  EXPECT_THROW(run_node({.op = "MatMulInteger", .inputs = {a, b, Tensor::from_vector<uint8_t>({3}, {1, 2, 3})}}), Error);
}

enum class AxisOp { Softmax, LogSoftmax, Hardmax };

// The op along the middle dim of x viewed as [outer, n, inner], computed in double.
Tensor naive_axis_op(const Tensor& x, int64_t outer, int64_t n, int64_t inner, AxisOp op) {
  Tensor y(DType::Float32, x.shape());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < inner; ++j) {
      auto at = [&](int64_t k) { return (o * n + k) * inner + j; };
      double max = -std::numeric_limits<double>::infinity(), sum = 0;
      int64_t argmax = 0;
      for (int64_t k = 0; k < n; ++k)
        if (x.value_as_double(at(k)) > max) max = x.value_as_double(at(k)), argmax = k;
      for (int64_t k = 0; k < n; ++k) sum += std::exp(x.value_as_double(at(k)) - max);
      for (int64_t k = 0; k < n; ++k) {
        const double shifted = x.value_as_double(at(k)) - max;
        const double value = op == AxisOp::Softmax      ? std::exp(shifted) / sum
                             : op == AxisOp::LogSoftmax ? shifted - std::log(sum)
                                                        : (k == argmax ? 1.0 : 0.0);
        y.data<float>()[at(k)] = static_cast<float>(value);
      }
    }
  return y;
}

struct AxisCase {
  const char* op;
  AxisOp kind;
};
const AxisCase kAxisOps[] = {{"Softmax", AxisOp::Softmax}, {"LogSoftmax", AxisOp::LogSoftmax}, {"Hardmax", AxisOp::Hardmax}};

TEST(DenseOps, SoftmaxFamilyAlongOneAxisFromOpset13) {
  const Tensor x = random_tensor({3, 13, 5}, 12, -20.f, 20.f);
  for (const auto& c : kAxisOps) {
    SCOPED_TRACE(c.op);
    testing::expect_tensor_near(run_node({.op = c.op, .inputs = {x}, .attributes = {{"axis", int64_t{1}}}})[0],
                                naive_axis_op(x, 3, 13, 5, c.kind));
    // The default axis is the last one.
    testing::expect_tensor_near(run_node({.op = c.op, .inputs = {x}})[0], naive_axis_op(x, 39, 5, 1, c.kind));
    testing::expect_tensor_near(run_node({.op = c.op, .inputs = {x}, .attributes = {{"axis", int64_t{-3}}}})[0],
                                naive_axis_op(x, 1, 3, 65, c.kind));
  }
}

TEST(DenseOps, SoftmaxFamilyCoercesTo2dBeforeOpset13) {
  const Tensor x = random_tensor({3, 13, 5}, 13, -20.f, 20.f);
  for (const auto& c : kAxisOps) {
    SCOPED_TRACE(c.op);
    // Default axis 1: each of the 3 rows of 13 * 5 values is one distribution.
    testing::expect_tensor_near(run_node({.op = c.op, .inputs = {x}, .opset = 11})[0], naive_axis_op(x, 3, 65, 1, c.kind));
    testing::expect_tensor_near(run_node({.op = c.op, .inputs = {x}, .attributes = {{"axis", int64_t{2}}}, .opset = 11})[0],
                                naive_axis_op(x, 39, 5, 1, c.kind));
  }
}

TEST(DenseOps, SoftmaxIsStableForLargeInputs) {
  const Tensor x = Tensor::from_vector<float>({2, 3}, {1000, 1001, 1002, -1000, -1000, -1000});
  testing::expect_tensor_near(run_node({.op = "Softmax", .inputs = {x}})[0],
                              Tensor::from_vector<float>({2, 3}, {0.09003057f, 0.24472847f, 0.66524096f, 1 / 3.f,
                                                                  1 / 3.f, 1 / 3.f}));
  testing::expect_tensor_near(run_node({.op = "LogSoftmax", .inputs = {x}})[0],
                              Tensor::from_vector<float>({2, 3}, {-2.40760596f, -1.40760596f, -0.40760596f,
                                                                  -1.09861229f, -1.09861229f, -1.09861229f}));
}

TEST(DenseOps, HardmaxPicksTheFirstMaximum) {
  const Tensor x = Tensor::from_vector<float>({2, 4}, {3, 7, 7, 1, -1, -1, -1, -1});
  testing::expect_tensor_near(run_node({.op = "Hardmax", .inputs = {x}})[0],
                              Tensor::from_vector<float>({2, 4}, {0, 1, 0, 0, 1, 0, 0, 0}));
}

TEST(DenseOps, SoftmaxRejectsAxisOutOfRange) {
  try {
    run_node({.op = "Softmax", .inputs = {random_tensor({2, 3}, 1)}, .attributes = {{"axis", int64_t{2}}}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("axis 2 is out of range"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kiln
