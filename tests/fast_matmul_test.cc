// MatMul and Gemm on the packed SGEMM (constant B packed at session creation, constant row C as
// the epilogue bias) at every CPU level and thread count, with B and C constant or fed at run time,
// against naive loops and gemm_ref.
#include <gtest/gtest.h>

#include "kernels/cpu/broadcast.h"
#include "kernels/cpu/gemm_ref.h"
#include "level_sweep.h"
#include "test_util.h"

namespace kiln {
namespace {

using testing::random_tensor;
using testing::run_node;

// Y = A x B by naive loops over the last two dims, with B broadcast over A's leading dims.
Tensor naive_matmul(const Tensor& a, const Tensor& b) {
  const int64_t K = a.shape().back(), N = b.shape().back(), M = a.rank() > 1 ? a.dim(a.rank() - 2) : 1;
  const int64_t batches = a.numel() / (M * K), b_batches = b.numel() / (K * N);
  Shape out = a.shape();
  out.back() = N;
  Tensor y(DType::Float32, out);
  for (int64_t t = 0; t < batches; ++t)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double sum = 0;
        for (int64_t k = 0; k < K; ++k)
          sum += double(a.data<float>()[(t * M + i) * K + k]) * b.data<float>()[((t % b_batches) * K + k) * N + j];
        y.data<float>()[(t * M + i) * N + j] = static_cast<float>(sum);
      }
  return y;
}

class FastMatMulTest : public ::testing::TestWithParam<CpuLevel> {};

TEST_P(FastMatMulTest, MatMulMatchesNaiveWithPackedAndRuntimeB) {
  const std::pair<Shape, Shape> cases[] = {{{1, 1}, {1, 1}},         {{1, 768}, {768, 301}},    {{13, 127}, {127, 33}},
                                           {{2, 3, 17, 29}, {29, 45}}, {{1, 128, 64}, {64, 300}}, {{4, 5, 7}, {4, 7, 3}},
                                           {{12, 9, 16}, {12, 16, 9}}};
  for (const auto& [a_shape, b_shape] : cases) {
    const Tensor a = random_tensor(a_shape, 1), b = random_tensor(b_shape, 2);
    const Tensor expected = naive_matmul(a, b);
    for (int threads : {1, 3}) {
      for (bool constant_b : {false, true}) {
        testing::NodeSpec spec{.op = "MatMul", .inputs = {a, b}, .cpu_level = cpu_level_name(GetParam()), .threads = threads};
        if (constant_b) spec.constant_inputs = {1};
        SCOPED_TRACE(::testing::Message() << shape_to_string(a_shape) << " x " << shape_to_string(b_shape) << " at "
                                          << cpu_level_name(GetParam()) << ", threads " << threads << ", constant B " << constant_b);
        testing::expect_tensor_near(run_node(spec)[0], expected, 1e-4, 1e-4);
      }
    }
  }
}

TEST_P(FastMatMulTest, GemmMatchesReferenceForTransposesAndEveryC) {
  const int64_t M = 19, N = 37, K = 300;
  const std::vector<Shape> c_shapes = {{}, {1}, {N}, {1, N}, {M, 1}, {M, N}};
  for (bool trans_a : {false, true}) {
    for (bool trans_b : {false, true}) {
      const Tensor a = random_tensor(trans_a ? Shape{K, M} : Shape{M, K}, 3);
      const Tensor b = random_tensor(trans_b ? Shape{N, K} : Shape{K, N}, 4);
      for (const Shape& c_shape : c_shapes) {
        const Tensor c = random_tensor(c_shape, 5);
        Tensor expected = Tensor::zeros(DType::Float32, {M, N});
        kernels::gemm_ref(trans_a, trans_b, M, N, K, 0.5f, a.data<float>(), a.dim(1), b.data<float>(), b.dim(1), 0.f,
                          expected.data<float>(), N);
        const std::vector<int64_t> strides[1] = {kernels::broadcast_strides(c_shape, {M, N})};
        kernels::for_each_broadcast(Shape{M, N}, strides, [&](int64_t i, const int64_t* o) {
          expected.data<float>()[i] += 2.f * c.data<float>()[o[0]];
        });
        for (bool constant : {false, true}) {
          testing::NodeSpec spec{.op = "Gemm",
                                 .inputs = {a, b, c},
                                 .attributes = {{"transA", int64_t{trans_a}},
                                                {"transB", int64_t{trans_b}},
                                                {"alpha", 0.5f},
                                                {"beta", 2.f}},
                                 .cpu_level = cpu_level_name(GetParam()),
                                 .threads = 2};
          if (constant) spec.constant_inputs = {1, 2};
          SCOPED_TRACE(::testing::Message() << "transA " << trans_a << " transB " << trans_b << " C "
                                            << shape_to_string(c_shape) << " constant " << constant << " at "
                                            << cpu_level_name(GetParam()));
          testing::expect_tensor_near(run_node(spec)[0], expected, 1e-4, 1e-4);
        }
      }
    }
  }
}

TEST_P(FastMatMulTest, FusedGemmAppliesActivation) {
  const Tensor a = random_tensor({5, 40}, 6), b = random_tensor({40, 21}, 7), c = random_tensor({21}, 8);
  const Tensor gemm = run_node({.op = "Gemm", .inputs = {a, b, c}})[0];
  const Tensor expected = run_node({.op = "Relu", .inputs = {gemm}})[0];
  const Tensor actual = run_node({.op = "FusedGemm",
                                  .inputs = {a, b, c},
                                  .attributes = {{"activation", std::string("Relu")}},
                                  .domain = "kiln",
                                  .constant_inputs = {1, 2},
                                  .cpu_level = cpu_level_name(GetParam())})[0];
  testing::expect_tensor_near(actual, expected, 1e-5, 1e-5);
}

KILN_INSTANTIATE_LEVEL_SWEEP(FastMatMulTest);

}  // namespace
}  // namespace kiln
