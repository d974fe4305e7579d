// The int8 GEMM (kernels/cpu/qgemm.h) against the reference loops gemm_integer_ref and
// requantize_ref, bit for bit, at every CPU level this machine runs and on 1 and 3 threads. At
// the Scalar level the kernel under test is the plain loop over the packed layout (qgemm_scalar.cc),
// not the reference: the reference reads B as the model gives it and knows no packing, padding or
// zero-point compensation. Shapes are odd so that partial tiles, panels and groups of 4 k occur;
// weights are int8 and uint8, transposed or not, with zero points per tensor and per column; A
// and C are strided. Also im2col_nhwc_u8 against a naive loop.
#include "kernels/cpu/qgemm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <tuple>

#include "kernels/cpu/im2col_nhwc.h"
#include "kernels/cpu/quant_ref.h"
#include "level_sweep.h"

namespace kiln::kernels {
namespace {

template <class T>
std::vector<T> random_codes(int64_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> dist(std::numeric_limits<T>::lowest(), std::numeric_limits<T>::max());
  std::vector<T> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<T>(dist(rng));
  return v;
}

std::vector<float> random_floats(int64_t n, float lo, float hi, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(rng);
  return v;
}

// One product: A [M x K] stored with row stride lda, B [K x N] stored as the model would (int8 or
// uint8, maybe transposed), and its reference int32 sums [M x N].
struct Problem {
  int64_t M, N, K, lda;
  int32_t a_zero_point;
  std::vector<uint8_t> a;
  bool is_signed, transposed;
  std::vector<uint8_t> b_bytes;        // K * N codes of either type
  std::vector<int32_t> b_zero_points;  // [1] or [N]
  std::vector<int32_t> expected;       // [M x N]

  QuantWeightsView view() const {
    return {b_bytes.data(), is_signed, transposed ? K : N, transposed, b_zero_points.data(),
            b_zero_points.size() > 1 ? 1 : 0};
  }
};

template <class TB>
std::vector<int32_t> reference_sums(const Problem& p) {
  std::vector<uint8_t> dense_a(static_cast<size_t>(p.M * p.K));
  for (int64_t i = 0; i < p.M; ++i)
    std::copy_n(p.a.begin() + i * p.lda, p.K, dense_a.begin() + i * p.K);
  std::vector<TB> dense_b(static_cast<size_t>(p.K * p.N));
  const auto* codes = reinterpret_cast<const TB*>(p.b_bytes.data());
  for (int64_t k = 0; k < p.K; ++k)
    for (int64_t j = 0; j < p.N; ++j)
      dense_b[static_cast<size_t>(k * p.N + j)] = codes[p.transposed ? j * p.K + k : k * p.N + j];
  std::vector<int32_t> a_zero_points(static_cast<size_t>(p.M), p.a_zero_point), b_zero_points(static_cast<size_t>(p.N));
  for (int64_t j = 0; j < p.N; ++j)
    b_zero_points[static_cast<size_t>(j)] = p.b_zero_points[p.b_zero_points.size() > 1 ? j : 0];
  std::vector<int32_t> sums(static_cast<size_t>(p.M * p.N));
  gemm_integer_ref(p.M, p.N, p.K, dense_a.data(), a_zero_points.data(), dense_b.data(), b_zero_points.data(),
                   sums.data());
  return sums;
}

enum class ZeroPoints { Zero, OddPerTensor, RandomPerColumn };

Problem make_problem(int64_t M, int64_t N, int64_t K, int64_t lda, int32_t a_zero_point, bool is_signed,
                     bool transposed, ZeroPoints zero_points, std::mt19937& rng) {
  Problem p{M, N, K, lda, a_zero_point, random_codes<uint8_t>(std::max<int64_t>(M * lda, 1), rng),
            is_signed, transposed, random_codes<uint8_t>(K * N, rng), {}, {}};
  const int32_t lowest = is_signed ? -128 : 0, highest = is_signed ? 127 : 255;
  switch (zero_points) {
    case ZeroPoints::Zero: p.b_zero_points = {0}; break;
    case ZeroPoints::OddPerTensor: p.b_zero_points = {is_signed ? -3 : 131}; break;
    case ZeroPoints::RandomPerColumn: {
      std::uniform_int_distribution<int32_t> dist(lowest, highest);
      for (int64_t j = 0; j < N; ++j) p.b_zero_points.push_back(dist(rng));
    }
  }
  p.expected = is_signed ? reference_sums<int8_t>(p) : reference_sums<uint8_t>(p);
  return p;
}

// C [M x ldc] initialized to a sentinel; `check` then also finds the columns past N untouched.
template <class T>
struct Output {
  int64_t M, N, ldc;
  std::vector<T> c;
  Output(int64_t m, int64_t n, int64_t ld) : M(m), N(n), ldc(ld), c(static_cast<size_t>(m * ld), T(99)) {}

  template <class Expected>
  void check(const Expected& expected, const char* what) const {
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < ldc; ++j) {
        const T actual = c[static_cast<size_t>(i * ldc + j)];
        const T want = j < N ? expected(i, j) : T(99);
        // Bit patterns, so that -0.f differs from 0.f and NaN matches NaN.
        ASSERT_EQ(std::memcmp(&actual, &want, sizeof(T)), 0)
            << what << " at (" << i << ", " << j << "): " << +actual << ", expected " << +want;
      }
  }
};

// The expected outputs of each epilogue, from the reference sums.
template <class Q>
Q requantized(const Problem& p, const Requantization& q, int64_t i, int64_t j) {
  Q y;
  requantize_ref(1, &p.expected[static_cast<size_t>(i * p.N + j)], q.bias ? q.bias[j] : 0,
                 q.multipliers + j * q.multiplier_step, 0, q.zero_point, &y);
  return static_cast<Q>(std::clamp<int32_t>(y, q.qmin, q.qmax));
}
float dequantized(const Problem& p, const Dequantization& d, int64_t i, int64_t j) {
  const float value = static_cast<float>(p.expected[static_cast<size_t>(i * p.N + j)]);
  return d.bias ? std::fma(value, d.scales[j * d.scale_step], d.bias[j]) : value * d.scales[j * d.scale_step];
}

struct Epilogues {
  std::vector<int32_t> bias;
  std::vector<float> multipliers, scales, float_bias;
  Requantization requantize_u8, requantize_s8;
  Dequantization dequantize;
};

// Parameters of every epilogue for problem number `index`, varied with it by divisors unlike the
// periods of the weights' variations, so that each kind of epilogue meets each kind of weights.
Epilogues make_epilogues(const Problem& p, int index, std::mt19937& rng) {
  Epilogues e;
  std::uniform_int_distribution<int32_t> bias(-60000, 60000);
  for (int64_t j = 0; j < p.N; ++j) e.bias.push_back(bias(rng));
  // Outputs spread over the 8-bit range: a sum's spread is about 5000 * sqrt(K). A per-tensor
  // multiplier that is a power of two makes ties (x.5) common, so that their rounding is tested.
  const double spread = 5000.0 * std::sqrt(static_cast<double>(std::max<int64_t>(p.K, 1))) / 64.0;
  const bool per_column = index / 7 % 2;
  if (per_column) {
    e.multipliers = random_floats(p.N, 0.3f / static_cast<float>(spread), 3.f / static_cast<float>(spread), rng);
  } else {
    e.multipliers = {std::ldexp(1.f, -static_cast<int>(std::round(std::log2(spread))))};
  }
  const int64_t step = e.multipliers.size() > 1 ? 1 : 0;
  const int32_t* bias_or_null = index / 11 % 3 == 2 ? nullptr : e.bias.data();
  e.requantize_u8 = {bias_or_null, e.multipliers.data(), step, 128};
  e.requantize_s8 = {bias_or_null, e.multipliers.data(), step, -5};
  // A fused Relu (qmin = zero point) or Clip, or none.
  if (index / 13 % 4 == 1) {
    e.requantize_u8.qmin = 128;
    e.requantize_s8.qmin = -5;
  } else if (index / 13 % 4 == 3) {
    e.requantize_u8.qmin = 20, e.requantize_u8.qmax = 230;
    e.requantize_s8.qmin = -100, e.requantize_s8.qmax = 90;
  }
  e.scales = per_column ? random_floats(p.N, -1e-3f, 1e-3f, rng) : std::vector<float>{3e-4f};
  e.float_bias = random_floats(p.N, -1.f, 1.f, rng);
  e.dequantize = {e.scales.data(), per_column, index / 17 % 3 == 1 ? nullptr : e.float_bias.data()};
  return e;
}

// Every epilogue of `p` through qgemm at `level` on `pool`, against the reference.
void expect_all_epilogues_match(CpuLevel level, const Problem& p, const PackedQuantWeights& packed, const Epilogues& e,
                                int64_t ldc, ThreadPool* pool) {
  Output<int32_t> sums(p.M, p.N, ldc);
  qgemm(level, p.M, p.a.data(), p.lda, p.a_zero_point, packed, {sums.c.data(), ldc}, pool);
  sums.check([&](int64_t i, int64_t j) { return p.expected[static_cast<size_t>(i * p.N + j)]; }, "int32");

  Output<uint8_t> u8(p.M, p.N, ldc);
  qgemm(level, p.M, p.a.data(), p.lda, p.a_zero_point, packed, {u8.c.data(), ldc, e.requantize_u8}, pool);
  u8.check([&](int64_t i, int64_t j) { return requantized<uint8_t>(p, e.requantize_u8, i, j); }, "uint8");

  Output<int8_t> s8(p.M, p.N, ldc);
  qgemm(level, p.M, p.a.data(), p.lda, p.a_zero_point, packed, {s8.c.data(), ldc, e.requantize_s8}, pool);
  s8.check([&](int64_t i, int64_t j) { return requantized<int8_t>(p, e.requantize_s8, i, j); }, "int8");

  Output<float> f32(p.M, p.N, ldc);
  qgemm(level, p.M, p.a.data(), p.lda, p.a_zero_point, packed, {f32.c.data(), ldc, {}, e.dequantize}, pool);
  f32.check([&](int64_t i, int64_t j) { return dequantized(p, e.dequantize, i, j); }, "float");
}

class QGemmTest : public ::testing::TestWithParam<CpuLevel> {};

TEST_P(QGemmTest, PackedKernelsMatchTheReferenceLoopsBitForBit) {
  const CpuLevel level = GetParam();
  ThreadPool one(1), three(3);
  std::mt19937 rng(2024);
  const int32_t a_zero_points[] = {0, 128, 37};
  const ZeroPoints zero_points[] = {ZeroPoints::Zero, ZeroPoints::OddPerTensor, ZeroPoints::RandomPerColumn};
  int index = 0;
  for (int64_t M : {1, 3, 7, 13, 64, 127})
    for (int64_t N : {1, 5, 16, 17, 63, 130})
      for (int64_t K : {1, 3, 4, 5, 31, 64, 127, 300}) {
        // Periods 2, 4, 3, 15, 12 and 12 across the shapes, so that every combination occurs.
        const bool is_signed = index % 2, transposed = index / 2 % 2;
        const ZeroPoints zp = zero_points[index % 3];
        const int32_t za = a_zero_points[index / 5 % 3];
        const int64_t lda = K + (index / 4 % 3) * 5, ldc = N + (index / 6 % 2) * 3;
        const Problem p = make_problem(M, N, K, lda, za, is_signed, transposed, zp, rng);
        const PackedQuantWeights packed = PackedQuantWeights::pack(K, N, p.view());
        const Epilogues e = make_epilogues(p, index, rng);
        for (ThreadPool* pool : {&one, &three, static_cast<ThreadPool*>(nullptr)}) {
          SCOPED_TRACE(::testing::Message()
                       << cpu_level_name(level) << " M=" << M << " N=" << N << " K=" << K << " lda=" << lda
                       << " ldc=" << ldc << (is_signed ? " int8" : " uint8") << (transposed ? " transposed" : "")
                       << " zero points " << static_cast<int>(zp) << " za=" << za << " threads "
                       << (pool ? pool->size() : 0));
          expect_all_epilogues_match(level, p, packed, e, ldc, pool);
        }
        ++index;
      }
}

// Where float and int32 arithmetic reach their limits: sums that wrap (K * 255 * 128 > 2^31), a
// bias whose sum with the accumulator leaves int32 (requantize_ref adds in int64), multipliers
// that are NaN, infinite, zero or negative, and K = 0.
TEST_P(QGemmTest, LimitsOfTheArithmeticMatchTheReference) {
  const CpuLevel level = GetParam();
  ThreadPool three(3);
  std::mt19937 rng(7);
  constexpr int32_t kInt32Max = std::numeric_limits<int32_t>::max(), kInt32Min = std::numeric_limits<int32_t>::min();
  constexpr float kNaN = std::numeric_limits<float>::quiet_NaN(), kInfinity = std::numeric_limits<float>::infinity();
  for (const auto& [M, N, K] : {std::tuple<int64_t, int64_t, int64_t>{3, 17, 70000}, {7, 40, 300}, {5, 19, 0}}) {
    Problem p = make_problem(M, N, K, K, 0, true, false, ZeroPoints::Zero, rng);
    if (K == 70000) {
      // All 255 x 127: every sum passes 2^31 and wraps.
      std::fill(p.a.begin(), p.a.end(), 255);
      std::fill(p.b_bytes.begin(), p.b_bytes.end(), 127);
      p.expected = reference_sums<int8_t>(p);
    }
    const PackedQuantWeights packed = PackedQuantWeights::pack(K, N, p.view());
    Epilogues e = make_epilogues(p, 7, rng);  // multipliers and scales per column, a bias
    for (int64_t j = 0; j < N; ++j) {
      e.bias[static_cast<size_t>(j)] = j % 2 ? kInt32Max - 5 : kInt32Min + 5;
      const float specials[] = {kNaN, kInfinity, -kInfinity, 0.f, -1e-9f, 1e-9f, 3e38f};
      if (j < 7) e.multipliers[static_cast<size_t>(j)] = specials[j];
      if (j < 3) e.scales[static_cast<size_t>(j)] = specials[j + 3];
    }
    e.requantize_s8.qmin = 3;  // so that NaN's 0 is clamped
    SCOPED_TRACE(::testing::Message() << cpu_level_name(level) << " M=" << M << " N=" << N << " K=" << K);
    expect_all_epilogues_match(level, p, packed, e, N, &three);
  }
}

// A store that hands back bytes packed before and never packs, as an engine file's does: what the
// kernels need (here that B is not symmetric) must come from the bytes, not from the view.
class ReplayStore final : public WeightStore {
 public:
  explicit ReplayStore(PreparedWeights stored) : stored_(std::move(stored)) {}
  PreparedWeights get(std::string_view, size_t bytes, const Pack&) override {
    EXPECT_EQ(bytes, stored_.size());
    return stored_;
  }
  PreparedWeights view(std::string_view, size_t, const std::function<PreparedWeights()>& as_is) override {
    return as_is();
  }

 private:
  PreparedWeights stored_;
};

class RecordingStore final : public WeightStore {
 public:
  PreparedWeights get(std::string_view key, size_t bytes, const Pack& pack) override {
    return recorded = fresh_weight_store().get(key, bytes, pack);
  }
  PreparedWeights view(std::string_view, size_t, const std::function<PreparedWeights()>& as_is) override {
    return as_is();
  }
  PreparedWeights recorded;
};

TEST_P(QGemmTest, WeightsFromAStoreNeedNoView) {
  const CpuLevel level = GetParam();
  std::mt19937 rng(11);
  const Problem p = make_problem(9, 33, 50, 50, 37, false, true, ZeroPoints::RandomPerColumn, rng);
  RecordingStore recording;
  const PackedQuantWeights packed = PackedQuantWeights::pack(p.K, p.N, p.view(), recording);
  ReplayStore replay(recording.recorded);
  const PackedQuantWeights loaded = PackedQuantWeights::pack(p.K, p.N, QuantWeightsView{}, replay);
  EXPECT_FALSE(loaded.symmetric());
  Output<int32_t> sums(p.M, p.N, p.N);
  qgemm(level, p.M, p.a.data(), p.lda, p.a_zero_point, loaded, {sums.c.data(), p.N}, nullptr);
  sums.check([&](int64_t i, int64_t j) { return p.expected[static_cast<size_t>(i * p.N + j)]; }, "int32");
}

KILN_INSTANTIATE_LEVEL_SWEEP(QGemmTest);

TEST(Im2colNhwc, MatchesANaiveLoop) {
  struct Case {
    int64_t height, width, channels, extra_channels, kh, kw, stride, dilation, pad;
  };
  const Case cases[] = {{9, 11, 3, 0, 3, 3, 1, 1, 1},  {8, 13, 5, 0, 3, 3, 2, 1, 1}, {7, 7, 16, 4, 1, 1, 1, 1, 0},
                        {10, 12, 4, 0, 5, 3, 2, 2, 2}, {3, 3, 2, 1, 7, 7, 1, 1, 3}, {6, 9, 8, 0, 3, 3, 1, 2, 2}};
  std::mt19937 rng(5);
  const uint8_t pad_value = 37;
  for (const Case& cc : cases) {
    const int64_t out_h = (cc.height + 2 * cc.pad - cc.dilation * (cc.kh - 1) - 1) / cc.stride + 1;
    const int64_t out_w = (cc.width + 2 * cc.pad - cc.dilation * (cc.kw - 1) - 1) / cc.stride + 1;
    const int64_t pixel_stride = cc.channels + cc.extra_channels, K = cc.kh * cc.kw * cc.channels, ld = K + 3;
    const auto image = random_codes<uint8_t>(cc.height * cc.width * pixel_stride, rng);
    const Im2colNhwcView view{image.data(), cc.height, cc.width, cc.channels, pixel_stride, cc.kh, cc.kw, cc.stride,
                              cc.stride,    cc.dilation, cc.dilation, cc.pad, cc.pad, out_h, out_w};
    // All positions, and a range that starts and ends inside output rows.
    const int64_t positions = out_h * out_w;
    for (const auto& [first, count] : {std::pair<int64_t, int64_t>{0, positions}, {out_w / 2 + 1, positions / 2}}) {
      std::vector<uint8_t> rows(static_cast<size_t>(count * ld), 99);
      im2col_nhwc_u8(view, first, count, pad_value, rows.data(), ld);
      for (int64_t r = 0; r < count; ++r) {
        const int64_t oy = (first + r) / out_w, ox = (first + r) % out_w;
        for (int64_t col = 0; col < ld; ++col) {
          uint8_t expected = 99;  // past K: untouched
          if (col < K) {
            const int64_t ky = col / (cc.kw * cc.channels), kx = col / cc.channels % cc.kw, c = col % cc.channels;
            const int64_t y = oy * cc.stride - cc.pad + ky * cc.dilation;
            const int64_t x = ox * cc.stride - cc.pad + kx * cc.dilation;
            const bool inside = y >= 0 && y < cc.height && x >= 0 && x < cc.width;
            expected = inside ? image[static_cast<size_t>((y * cc.width + x) * pixel_stride + c)] : pad_value;
          }
          ASSERT_EQ(rows[static_cast<size_t>(r * ld + col)], expected)
              << "image " << cc.height << "x" << cc.width << "x" << cc.channels << " kernel " << cc.kh << "x" << cc.kw
              << " stride " << cc.stride << " dilation " << cc.dilation << " row " << first + r << " column " << col;
        }
      }
    }
  }
}

}  // namespace
}  // namespace kiln::kernels
