// The fast SGEMM against gemm_ref at every CPU level this machine runs: odd sizes that leave
// partial tiles and K blocks, both transposes, pre-packed operands, im2col packing, every epilogue
// and multi-threaded against single-threaded.
#include "kernels/cpu/sgemm.h"

#include <gtest/gtest.h>

#include <random>
#include <tuple>

#include "kernels/cpu/gemm_ref.h"
#include "level_sweep.h"
#include "test_util.h"

namespace kiln::kernels {
namespace {

std::vector<float> random_values(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(rng);
  return v;
}

void expect_close(const std::vector<float>& actual, const std::vector<float>& expected, int64_t K, const char* what) {
  ASSERT_EQ(actual.size(), expected.size());
  // Summation order differs from the reference; the error grows with K.
  const float tolerance = 1e-5f * static_cast<float>(std::max<int64_t>(K, 16));
  for (size_t i = 0; i < actual.size(); ++i)
    ASSERT_NEAR(actual[i], expected[i], tolerance) << what << " at element " << i;
}

struct Case {
  int64_t M, N, K;
};
const Case kCases[] = {{1, 1, 1},    {1, 37, 300},  {3, 5, 7},     {13, 33, 17},  {14, 32, 256},
                       {15, 31, 257}, {29, 65, 513}, {127, 13, 64}, {2, 1000, 3}, {64, 49, 600},
                       {5, 7, 0}};

class SgemmTest : public ::testing::TestWithParam<CpuLevel> {};

TEST_P(SgemmTest, MatchesReferenceForEveryOperandForm) {
  const CpuLevel level = GetParam();
  ThreadPool pool(1);
  uint32_t seed = 1;
  for (const Case& s : kCases) {
    for (bool trans_a : {false, true}) {
      for (bool trans_b : {false, true}) {
        const auto a = random_values(s.M * s.K, seed++), b = random_values(s.K * s.N, seed++);
        const int64_t lda = trans_a ? s.M : s.K, ldb = trans_b ? s.K : s.N;
        std::vector<float> expected(static_cast<size_t>(s.M * s.N));
        gemm_ref(trans_a, trans_b, s.M, s.N, s.K, 1.f, a.data(), lda, b.data(), ldb, 0.f, expected.data(), s.N);
        const MatrixView va{a.data(), lda, trans_a}, vb{b.data(), ldb, trans_b};
        const PackedMatrix pa = PackedMatrix::pack_a(level, s.M, s.K, va);
        const PackedMatrix pb = PackedMatrix::pack_b(level, s.K, s.N, vb);
        const std::tuple<GemmA, GemmB, const char*> forms[] = {
            {va, vb, "plain"}, {&pa, vb, "packed A"}, {va, &pb, "packed B"}, {&pa, &pb, "both packed"}};
        for (const auto& [ga, gb, name] : forms) {
          std::vector<float> c(expected.size(), 99.f);
          sgemm(level, s.M, s.N, s.K, ga, gb, c.data(), s.N, {}, &pool);
          SCOPED_TRACE(::testing::Message() << cpu_level_name(level) << " M=" << s.M << " N=" << s.N << " K=" << s.K
                                            << " transA=" << trans_a << " transB=" << trans_b);
          expect_close(c, expected, s.K, name);
        }
      }
    }
  }
}

TEST_P(SgemmTest, EpilogueAppliesScaleBiasResidualAndActivation) {
  const CpuLevel level = GetParam();
  ThreadPool pool(1);
  const int64_t M = 17, N = 45, K = 300, ldc = N + 3;
  const auto a = random_values(M * K, 7), b = random_values(K * N, 8);
  const auto row_bias = random_values(M, 9), col_bias = random_values(N, 10), residual = random_values(M * N, 11);
  const auto initial = random_values(M * ldc, 12);
  const Activation activations[] = {{ActivationKind::None},        {ActivationKind::Relu},
                                    {ActivationKind::Clip, -0.5f, 0.7f}, {ActivationKind::LeakyRelu, 0.1f},
                                    {ActivationKind::Sigmoid},     {ActivationKind::HardSigmoid, 0.2f, 0.5f},
                                    {ActivationKind::HardSwish},   {ActivationKind::Tanh},
                                    {ActivationKind::Gelu},        {ActivationKind::GeluTanh},
                                    {ActivationKind::Silu}};
  for (bool accumulate : {false, true}) {
    for (const Activation& act : activations) {
      std::vector<float> product(static_cast<size_t>(M * N));
      gemm_ref(false, false, M, N, K, 1.f, a.data(), K, b.data(), N, 0.f, product.data(), N);
      std::vector<float> expected = initial;
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          float& y = expected[static_cast<size_t>(i * ldc + j)];
          const float v = 0.5f * product[static_cast<size_t>(i * N + j)] + (accumulate ? y : 0.f) +
                          row_bias[static_cast<size_t>(i)] + col_bias[static_cast<size_t>(j)] +
                          residual[static_cast<size_t>(i * N + j)];
          y = apply_activation_ref(act, v);
        }
      std::vector<float> c = initial;
      const GemmEpilogue epilogue{0.5f, accumulate, row_bias.data(), col_bias.data(), residual.data(), N, act};
      sgemm(level, M, N, K, MatrixView{a.data(), K}, MatrixView{b.data(), N}, c.data(), ldc, epilogue, &pool);
      SCOPED_TRACE(::testing::Message() << cpu_level_name(level) << " activation " << static_cast<int>(act.kind)
                                        << " accumulate " << accumulate);
      expect_close(c, expected, K, "epilogue");
    }
  }
}

TEST_P(SgemmTest, Im2colPackingMatchesExplicitIm2col) {
  const CpuLevel level = GetParam();
  ThreadPool pool(1);
  struct ConvCase {
    int64_t channels, height, width, kh, kw, stride, dilation, pad;
  };
  const ConvCase cases[] = {{3, 13, 11, 3, 3, 1, 1, 1}, {2, 9, 17, 3, 3, 2, 1, 1}, {5, 7, 7, 1, 1, 1, 1, 0},
                            {4, 10, 12, 5, 3, 2, 2, 2}, {1, 3, 3, 7, 7, 1, 1, 3}};
  for (const ConvCase& cc : cases) {
    const int64_t out_h = (cc.height + 2 * cc.pad - cc.dilation * (cc.kh - 1) - 1) / cc.stride + 1;
    const int64_t out_w = (cc.width + 2 * cc.pad - cc.dilation * (cc.kw - 1) - 1) / cc.stride + 1;
    const int64_t K = cc.channels * cc.kh * cc.kw, N = out_h * out_w, M = 19;
    const auto image = random_values(cc.channels * cc.height * cc.width, 21);
    const auto w = random_values(M * K, 22);
    std::vector<float> columns(static_cast<size_t>(K * N), 0.f);
    for (int64_t k = 0; k < K; ++k) {
      const int64_t ch = k / (cc.kh * cc.kw), ky = k / cc.kw % cc.kh, kx = k % cc.kw;
      for (int64_t oy = 0; oy < out_h; ++oy)
        for (int64_t ox = 0; ox < out_w; ++ox) {
          const int64_t iy = oy * cc.stride - cc.pad + ky * cc.dilation, ix = ox * cc.stride - cc.pad + kx * cc.dilation;
          if (iy >= 0 && iy < cc.height && ix >= 0 && ix < cc.width)
            columns[static_cast<size_t>(k * N + oy * out_w + ox)] =
                image[static_cast<size_t>((ch * cc.height + iy) * cc.width + ix)];
        }
    }
    std::vector<float> expected(static_cast<size_t>(M * N));
    gemm_ref(false, false, M, N, K, 1.f, w.data(), K, columns.data(), N, 0.f, expected.data(), N);
    const Im2colView view{image.data(), cc.channels, cc.height, cc.width, cc.kh,  cc.kw,  cc.stride,
                          cc.stride,    cc.dilation, cc.dilation, cc.pad, cc.pad, out_h, out_w};
    const PackedMatrix pa = PackedMatrix::pack_a(level, M, K, MatrixView{w.data(), K});
    std::vector<float> c(expected.size());
    sgemm(level, M, N, K, &pa, view, c.data(), N, {}, &pool);
    SCOPED_TRACE(::testing::Message() << cpu_level_name(level) << " image " << cc.channels << "x" << cc.height << "x"
                                      << cc.width << " kernel " << cc.kh << "x" << cc.kw);
    expect_close(c, expected, K, "im2col");
  }
}

TEST_P(SgemmTest, MultiThreadedMatchesSingleThreaded) {
  const CpuLevel level = GetParam();
  ThreadPool one(1), three(3);
  // Split along N, along M, and along M for lack of N tiles (20 x 16: two M tiles, one N tile).
  for (const Case& s :
       {Case{1, 999, 301}, Case{130, 70, 129}, Case{7, 300, 65}, Case{200, 49, 40}, Case{20, 16, 400}}) {
    const auto a = random_values(s.M * s.K, 31), b = random_values(s.K * s.N, 32);
    const PackedMatrix pa = PackedMatrix::pack_a(level, s.M, s.K, MatrixView{a.data(), s.K});
    const PackedMatrix pb = PackedMatrix::pack_b(level, s.K, s.N, MatrixView{b.data(), s.N});
    for (const auto& [ga, gb] : {std::pair<GemmA, GemmB>{&pa, MatrixView{b.data(), s.N}},
                                 std::pair<GemmA, GemmB>{MatrixView{a.data(), s.K}, &pb}}) {
      std::vector<float> single(static_cast<size_t>(s.M * s.N)), multi(single.size());
      sgemm(level, s.M, s.N, s.K, ga, gb, single.data(), s.N, {}, &one);
      sgemm(level, s.M, s.N, s.K, ga, gb, multi.data(), s.N, {}, &three);
      // Each element is summed in the same order whichever thread computes it.
      EXPECT_EQ(single, multi) << cpu_level_name(level) << " M=" << s.M << " N=" << s.N;
    }
  }
}

TEST(Sgemm, PackedOperandForAnotherLevelIsRejected) {
  ThreadPool pool(1);
  const std::vector<float> a(4, 1.f);
  const PackedMatrix pa = PackedMatrix::pack_a(CpuLevel::Scalar, 2, 2, MatrixView{a.data(), 2});
  std::vector<float> c(4);
  if (detected_cpu_level() == CpuLevel::Scalar) GTEST_SKIP() << "only one level on this CPU";
  EXPECT_THROW(sgemm(detected_cpu_level(), 2, 2, 2, &pa, MatrixView{a.data(), 2}, c.data(), 2, {}, &pool), Error);
}

KILN_INSTANTIATE_LEVEL_SWEEP(SgemmTest);

}  // namespace
}  // namespace kiln::kernels
