// gemm_ref against a naive triple loop: every transpose combination, odd sizes that straddle the
// GEMM's blocks, padded leading dimensions, and alpha/beta variants.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/cpu/gemm_ref.h"

namespace kiln {
namespace {

struct GemmCase {
  int64_t M, N, K;
  float alpha, beta;
};

std::vector<float> random_values(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

// Stores op(X) (rows x cols) as X with a leading dimension 3 wider than needed.
struct Operand {
  std::vector<float> data;
  int64_t ld;
  bool trans;
  float at(int64_t r, int64_t c) const { return trans ? data[c * ld + r] : data[r * ld + c]; }
};

Operand make_operand(int64_t rows, int64_t cols, bool trans, uint32_t seed) {
  const int64_t stored_rows = trans ? cols : rows, ld = (trans ? rows : cols) + 3;
  return {random_values(static_cast<size_t>(stored_rows * ld), seed), ld, trans};
}

void check_gemm(const GemmCase& c, bool transA, bool transB) {
  const Operand a = make_operand(c.M, c.K, transA, 1), b = make_operand(c.K, c.N, transB, 2);
  const int64_t ldc = c.N + 2;
  std::vector<float> out = random_values(static_cast<size_t>(c.M * ldc), 3);
  std::vector<float> expected = out;
  for (int64_t i = 0; i < c.M; ++i)
    for (int64_t j = 0; j < c.N; ++j) {
      double sum = 0;
      for (int64_t k = 0; k < c.K; ++k) sum += double(a.at(i, k)) * b.at(k, j);
      const double prior = c.beta == 0.f ? 0.0 : c.beta * double(expected[i * ldc + j]);
      expected[i * ldc + j] = static_cast<float>(c.alpha * sum + prior);
    }
  // beta == 0 must not read C: garbage (NaN) there must not leak into the result.
  if (c.beta == 0.f)
    for (float& v : out) v = std::numeric_limits<float>::quiet_NaN();
  kernels::gemm_ref(transA, transB, c.M, c.N, c.K, c.alpha, a.data.data(), a.ld, b.data.data(), b.ld, c.beta,
                    out.data(), ldc);
  for (int64_t i = 0; i < c.M; ++i)
    for (int64_t j = 0; j < c.N; ++j)
      ASSERT_NEAR(out[i * ldc + j], expected[i * ldc + j], 1e-4 * (1 + std::sqrt(double(c.K))))
          << "M=" << c.M << " N=" << c.N << " K=" << c.K << " transA=" << transA << " transB=" << transB << " at ("
          << i << ", " << j << ")";
}

TEST(GemmRef, MatchesNaiveLoopForAllTransposes) {
  const GemmCase cases[] = {{1, 1, 1, 1.f, 0.f},      {3, 13, 7, 1.f, 0.f},    {13, 3, 1, 0.5f, 1.f},
                            {7, 300, 131, 1.f, 1.f},  {17, 259, 257, -2.f, 0.25f}, {2, 1, 300, 1.f, 0.f},
                            {1, 1000, 19, 1.5f, 0.f}};
  for (const GemmCase& c : cases)
    for (bool transA : {false, true})
      for (bool transB : {false, true}) check_gemm(c, transA, transB);
}

TEST(GemmRef, ZeroDepthScalesByBeta) {
  std::vector<float> out = {1, 2, 3, 4, 5, 6};
  kernels::gemm_ref(false, false, 2, 3, 0, 1.f, nullptr, 1, nullptr, 3, 0.5f, out.data(), 3);
  EXPECT_EQ(out, (std::vector<float>{0.5f, 1, 1.5f, 2, 2.5f, 3}));
}

TEST(GemmRef, HandComputedProduct) {
  // [1 2; 3 4] * [5 6; 7 8] = [19 22; 43 50]
  const std::vector<float> a = {1, 2, 3, 4}, b = {5, 6, 7, 8};
  std::vector<float> out(4, 100.f);
  kernels::gemm_ref(false, false, 2, 2, 2, 1.f, a.data(), 2, b.data(), 2, 1.f, out.data(), 2);
  EXPECT_EQ(out, (std::vector<float>{119, 122, 143, 150}));
}

}  // namespace
}  // namespace kiln
