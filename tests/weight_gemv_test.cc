// The weight GEMV and dequantization of every stored format against the reference, over odd
// sizes (vector tails), several x rows, bias and accumulation, on one and three threads; the
// packed float16/bfloat16 and int8/int4 products and the activation quantizer against theirs; and the weight
// quantizers' rounding, which must reproduce GGUF's Q8_0 and Q4_0 blocks.
#include "kernels/cpu/weight_gemv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <tuple>
#include <vector>

#include "kernels/cpu/packed_half_weights.h"
#include "kernels/cpu/packed_int_weights.h"
#include "kernels/cpu/quantized_activations.h"
#include "kernels/cpu/weight_quantize.h"
#include "kiln/error.h"
#include "kiln/dtype.h"
#include "level_sweep.h"

namespace kiln::kernels {
namespace {

struct Stored {
  std::vector<uint8_t> data;
  std::vector<float> scales;
  WeightMatrixView view;
};

Stored store(WeightFormat format, int64_t rows, int64_t cols, int64_t group, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  Stored s;
  std::vector<float> w(static_cast<size_t>(rows * cols));
  for (float& v : w) v = normal(rng);
  const int64_t row_bytes = weight_row_bytes(format, cols);
  s.data.resize(static_cast<size_t>(rows * row_bytes));
  if (format == WeightFormat::Int8 || format == WeightFormat::Int4) s.scales.resize(static_cast<size_t>(rows * (cols / group)));
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = w.data() + r * cols;
    uint8_t* out = s.data.data() + r * row_bytes;
    for (int64_t c = 0; c < cols; ++c) {
      if (format == WeightFormat::F32) std::memcpy(out + 4 * c, &row[c], 4);
      if (format == WeightFormat::F16) {
        const Float16 h = to_float16(row[c]);
        std::memcpy(out + 2 * c, &h.bits, 2);
      }
      if (format == WeightFormat::BF16) {
        const BFloat16 b = to_bfloat16(row[c]);
        std::memcpy(out + 2 * c, &b.bits, 2);
      }
    }
    if (format == WeightFormat::Int8) quantize_int8_row(row, cols, group, reinterpret_cast<int8_t*>(out), s.scales.data() + r * (cols / group));
    if (format == WeightFormat::Int4) quantize_int4_row(row, cols, group, out, s.scales.data() + r * (cols / group));
  }
  // As nn::Projection keeps them: the packed kernels read float16 scales.
  round_scales_to_float16(s.scales.data(), static_cast<int64_t>(s.scales.size()));
  s.view = {format, rows, cols, group, s.data.data(), s.scales.empty() ? nullptr : s.scales.data()};
  return s;
}

struct MatrixCase {
  WeightFormat format;
  int64_t rows, cols, group;
};

// `product(args, pool)` against weight_gemv_ref for every x row count in `x_rows`, with and
// without bias, storing and accumulating, on one and three threads.
template <class Product>
void expect_reference_values(const MatrixCase& c, const Stored& w, std::initializer_list<int64_t> x_rows_counts,
                             std::mt19937& rng, const Product& product) {
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  for (const int64_t x_rows : x_rows_counts) {
    const int64_t ldx = c.cols + 5, ldy = c.rows + 3;
    std::vector<float> x(static_cast<size_t>(x_rows * ldx)), bias(static_cast<size_t>(c.rows));
    for (float& v : x) v = uniform(rng) * 3.f;
    for (float& v : bias) v = uniform(rng);
    std::vector<float> start(static_cast<size_t>(x_rows * ldy));
    for (float& v : start) v = uniform(rng);
    for (const bool with_bias : {false, true})
      for (const bool accumulate : {false, true}) {
        GemvArgs args{x.data(), ldx, x_rows, nullptr, ldy, with_bias ? bias.data() : nullptr, accumulate};
        std::vector<float> expected = start, actual;
        args.y = expected.data();
        weight_gemv_ref(w.view, args, 0, c.rows);
        for (int threads : {1, 3}) {
          ThreadPool pool(threads);
          actual = start;
          args.y = actual.data();
          product(args, pool);
          for (size_t i = 0; i < actual.size(); ++i)
            ASSERT_NEAR(actual[i], expected[i], 1e-4 * (1 + std::abs(expected[i])))
                << weight_format_name(c.format) << " " << c.rows << "x" << c.cols << " group " << c.group << ", "
                << x_rows << " rows, " << threads << " threads, element " << i;
        }
      }
  }
}

class WeightGemv : public testing::LevelSweep {};

TEST_P(WeightGemv, MatchesTheReferenceForEveryFormat) {
  const std::vector<MatrixCase> cases = {{WeightFormat::F32, 13, 37, 0},  {WeightFormat::F16, 9, 100, 0},
                                         {WeightFormat::BF16, 5, 16, 0},  {WeightFormat::Int8, 11, 45, 45},
                                         {WeightFormat::Int8, 7, 96, 32}, {WeightFormat::Int8, 5, 200, 200},
                                         {WeightFormat::Int8, 9, 704, 32}, {WeightFormat::Int4, 10, 64, 32},
                                         {WeightFormat::Int4, 6, 256, 128}, {WeightFormat::Int4, 7, 96, 32},
                                         {WeightFormat::Int4, 5, 384, 128}};
  std::mt19937 rng(5);
  for (size_t n = 0; n < cases.size(); ++n) {
    const MatrixCase& c = cases[n];
    const Stored w = store(c.format, c.rows, c.cols, c.group, static_cast<uint32_t>(n));
    expect_reference_values(c, w, {1, 3, 6}, rng,
                            [&](const GemvArgs& args, ThreadPool& pool) { weight_gemv(GetParam(), w.view, args, pool); });
    std::vector<float> expected(static_cast<size_t>(c.rows * c.cols)), actual(expected.size());
    dequantize_rows_ref(w.view, 0, c.rows, expected.data(), c.cols);
    dequantize_rows(GetParam(), w.view, 0, c.rows, actual.data(), c.cols);
    EXPECT_EQ(actual, expected) << weight_format_name(c.format);
  }
}

INSTANTIATE_TEST_SUITE_P(Levels, WeightGemv, ::testing::ValuesIn(testing::runnable_cpu_levels()),
                         [](const auto& param_info) { return std::string(cpu_level_name(param_info.param)); });

bool avx512_runs() {
  const auto levels = testing::runnable_cpu_levels();
  return std::find(levels.begin(), levels.end(), CpuLevel::Avx512) != levels.end();
}

// The packed float16/bfloat16 GEMV against the reference on the row-major matrix, over partial
// panels (vectors of a panel past the last output included), odd input counts (one x row takes
// inputs two at a time), x tiles of 1 to 4 rows and more than one tile; and its panels unpacked
// to float, the SGEMM's B for prefill, against the reference dequantization.
TEST(PackedHalfWeights, MatchTheReferenceGemvAndDequantization) {
  if (!avx512_runs()) GTEST_SKIP() << "needs AVX-512";
  constexpr int64_t kPanel = PackedHalfWeights::kPanel;
  const std::vector<MatrixCase> cases = {{WeightFormat::F16, 9, 100, 0},   {WeightFormat::F16, 33, 64, 0},
                                         {WeightFormat::F16, 64, 3, 0},    {WeightFormat::BF16, 5, 16, 0},
                                         {WeightFormat::BF16, 40, 37, 0},  {WeightFormat::F16, 1, 1, 0},
                                         {WeightFormat::F16, 150, 45, 0},  {WeightFormat::BF16, 129, 20, 0},
                                         {WeightFormat::F16, 80, 130, 0}};
  std::mt19937 rng(11);
  for (size_t n = 0; n < cases.size(); ++n) {
    const MatrixCase& c = cases[n];
    const Stored w = store(c.format, c.rows, c.cols, c.group, static_cast<uint32_t>(n + 200));
    const PackedHalfWeights packed = pack_half_weights({&w.view, 1});
    ASSERT_EQ(packed.panels, (c.rows + kPanel - 1) / kPanel);
    expect_reference_values(c, w, {1, 2, 3, 4, 8, 11, 20}, rng,
                            [&](const GemvArgs& args, ThreadPool& pool) { packed_half_gemv(packed, args, pool); });
    std::vector<float> rows(static_cast<size_t>(c.rows * c.cols));
    dequantize_rows_ref(w.view, 0, c.rows, rows.data(), c.cols);
    // Unpacked from the second panel on (when there is one), into a wider row stride.
    const int64_t first = packed.panels > 1 ? 1 : 0, count = packed.panels - first, ld = count * kPanel + 3;
    std::vector<float> b(static_cast<size_t>(c.cols * ld), -1.f);
    unpack_half_panels(packed, first, count, b.data(), ld);
    for (int64_t k = 0; k < c.cols; ++k)
      for (int64_t j = 0; j < count * kPanel; ++j) {
        const int64_t r = first * kPanel + j;
        ASSERT_EQ(b[k * ld + j], r < c.rows ? rows[r * c.cols + k] : 0.f)
            << weight_format_name(c.format) << " " << c.rows << "x" << c.cols << " output " << r << " input " << k;
      }
  }
}

// Parts packed as one (a fused projection) equal the stacked matrix, their panels crossing from
// one part into the next; parts that differ in format or width are refused.
TEST(PackedHalfWeights, StackThePartsTheyPack) {
  if (!avx512_runs()) GTEST_SKIP() << "needs AVX-512";
  const Stored stacked = store(WeightFormat::F16, 145, 70, 0, 3);
  const int64_t row_bytes = weight_row_bytes(WeightFormat::F16, 70);
  const std::vector<WeightMatrixView> parts = {{WeightFormat::F16, 20, 70, 0, stacked.data.data(), nullptr},
                                               {WeightFormat::F16, 57, 70, 0, stacked.data.data() + 20 * row_bytes, nullptr},
                                               {WeightFormat::F16, 68, 70, 0, stacked.data.data() + 77 * row_bytes, nullptr}};
  const PackedHalfWeights packed = pack_half_weights(parts);
  ASSERT_EQ(packed.rows, 145);
  std::mt19937 rng(4);
  expect_reference_values({WeightFormat::F16, 145, 70, 0}, stacked, {1, 5}, rng,
                          [&](const GemvArgs& args, ThreadPool& pool) { packed_half_gemv(packed, args, pool); });
  const Stored bf16 = store(WeightFormat::BF16, 4, 70, 0, 1), narrow = store(WeightFormat::F16, 4, 60, 0, 1);
  EXPECT_THROW(pack_half_weights(std::vector{parts[0], bf16.view}), Error);
  EXPECT_THROW(pack_half_weights(std::vector{parts[0], narrow.view}), Error);
  const Stored int8 = store(WeightFormat::Int8, 4, 64, 32, 1);
  EXPECT_THROW(pack_half_weights({&int8.view, 1}), Error);
}

// The packed VNNI product against the reference on the row-major matrix: partial panels (rows not
// a multiple of 16), inputs past a multiple of 32 (per-channel int8), groups of 32 to the whole
// row, x tiles of 1 to 8 rows and more than one tile, bias and accumulation, on 1 and 3 threads.
TEST(PackedIntWeights, MatchTheReferenceGemv) {
  if (!avx512_runs()) GTEST_SKIP() << "needs AVX-512 VNNI";
  const std::vector<MatrixCase> cases = {{WeightFormat::Int8, 11, 45, 45},   {WeightFormat::Int8, 33, 96, 32},
                                         {WeightFormat::Int8, 16, 688, 688}, {WeightFormat::Int8, 40, 256, 64},
                                         {WeightFormat::Int4, 10, 64, 32},   {WeightFormat::Int4, 17, 256, 128},
                                         {WeightFormat::Int4, 48, 96, 32},   {WeightFormat::Int4, 5, 384, 384}};
  std::mt19937 rng(9);
  for (size_t n = 0; n < cases.size(); ++n) {
    const MatrixCase& c = cases[n];
    const Stored w = store(c.format, c.rows, c.cols, c.group, static_cast<uint32_t>(n + 100));
    const PackedIntWeights packed = pack_int_weights(w.view);
    expect_reference_values(c, w, {1, 3, 8, 11, 20}, rng,
                            [&](const GemvArgs& args, ThreadPool& pool) { packed_int_matmul(packed, args, pool); });
  }
}

TEST(PackedIntWeights, RejectGroupsThatDoNotTileTheRow) {
  const Stored w = store(WeightFormat::Int8, 4, 96, 32, 1);
  WeightMatrixView uneven = w.view;
  uneven.group = 48;
  EXPECT_THROW(pack_int_weights(uneven), Error);
  const Stored int4 = store(WeightFormat::Int4, 4, 64, 64, 1);
  WeightMatrixView ragged_int4 = int4.view;
  ragged_int4.cols = ragged_int4.group = 48;
  EXPECT_THROW(pack_int_weights(ragged_int4), Error);
  const Stored f = store(WeightFormat::F16, 4, 96, 0, 1);
  EXPECT_THROW(pack_int_weights(f.view), Error);
}

// A scale that float16 does not hold would make the packed product differ from the matrix's own
// values: refused, naming where it is.
TEST(PackedIntWeights, RejectScalesThatFloat16DoesNotHold) {
  Stored w = store(WeightFormat::Int4, 3, 64, 32, 2);
  w.scales[5] = 0.1f;
  try {
    pack_int_weights(w.view);
    FAIL() << "packed a scale of 0.1";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("row 2 group 1"), std::string::npos) << e.what();
  }
}

// The AVX-512 quantizer gives the reference's codes, scales and sums exactly, over tails, zero
// blocks and values at rounding ties.
TEST(QuantizedActivations, Avx512MatchesTheReferenceExactly) {
  if (!avx512_runs()) GTEST_SKIP() << "needs AVX-512";
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> uniform(-2.f, 2.f);
  for (const int64_t cols : {1, 17, 32, 45, 100, 688}) {
    const int64_t rows = 5, ldx = cols + 2;
    std::vector<float> x(static_cast<size_t>(rows * ldx));
    for (float& v : x) v = uniform(rng);
    for (int64_t c = 0; c < std::min<int64_t>(cols, 32); ++c) x[static_cast<size_t>(ldx + c)] = 0.f;  // an all-zero block
    if (cols >= 4) {
      x[static_cast<size_t>(2 * ldx)] = 127.f;  // scale 1: 2.5 and -0.5 are ties
      x[static_cast<size_t>(2 * ldx + 1)] = 2.5f;
      x[static_cast<size_t>(2 * ldx + 2)] = -0.5f;
    }
    QuantizedActivations expected, actual;
    prepare_quantized_activations(rows, cols, expected);
    quantize_activation_rows_ref(x.data(), ldx, 0, rows, expected);
    ThreadPool pool(2);
    quantize_activations(CpuLevel::Avx512, x.data(), ldx, rows, cols, actual, pool);
    const size_t codes = static_cast<size_t>(rows * expected.blocks * 32), blocks = static_cast<size_t>(rows * expected.blocks);
    EXPECT_EQ(std::vector<int8_t>(actual.q.data(), actual.q.data() + codes),
              std::vector<int8_t>(expected.q.data(), expected.q.data() + codes)) << cols << " columns";
    EXPECT_EQ(std::vector<float>(actual.scale.data(), actual.scale.data() + blocks),
              std::vector<float>(expected.scale.data(), expected.scale.data() + blocks)) << cols << " columns";
    EXPECT_EQ(std::vector<int32_t>(actual.block_sum.data(), actual.block_sum.data() + blocks),
              std::vector<int32_t>(expected.block_sum.data(), expected.block_sum.data() + blocks)) << cols << " columns";
    if (cols >= 4) {
      EXPECT_EQ(expected.row(2)[1], 2) << "ties round to even";
      EXPECT_EQ(expected.row(2)[2], 0) << "ties round to even";
    }
  }
}

// Int8 and Int4 weights multiply x rounded to int8 per block of 32 columns: each element is off by
// at most half its block's step, so the product is within sum |w| * step / 2 of the float one.
TEST(WeightGemvReference, IntegerFormatsRoundXPerBlockOf32) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  for (const auto& [format, cols, group] : {std::tuple{WeightFormat::Int8, int64_t{100}, int64_t{100}},
                                            {WeightFormat::Int8, int64_t{128}, int64_t{32}},
                                            {WeightFormat::Int4, int64_t{160}, int64_t{32}}}) {
    const int64_t rows = 6;
    const Stored w = store(format, rows, cols, group, 3);
    std::vector<float> x(static_cast<size_t>(cols)), y(rows), dense(static_cast<size_t>(rows * cols));
    for (size_t c = 0; c < x.size(); ++c) x[c] = uniform(rng) * (c % 32 == 5 ? 20.f : 1.f);  // an outlier per block
    weight_gemv_ref(w.view, {x.data(), cols, 1, y.data(), rows, nullptr, false}, 0, rows);
    dequantize_rows_ref(w.view, 0, rows, dense.data(), cols);
    double worst_ratio = 0;
    for (int64_t j = 0; j < rows; ++j) {
      double exact = 0, bound = 1e-5;
      for (int64_t c = 0; c < cols; ++c) {
        const double wc = dense[static_cast<size_t>(j * cols + c)];
        float amax = 0.f;
        for (int64_t k = c / 32 * 32; k < std::min(cols, c / 32 * 32 + 32); ++k) amax = std::max(amax, std::abs(x[k]));
        exact += wc * x[static_cast<size_t>(c)];
        bound += std::abs(wc) * amax / 127.0 / 2;
      }
      EXPECT_LE(std::abs(y[j] - exact), bound) << weight_format_name(format) << " row " << j;
      worst_ratio = std::max(worst_ratio, std::abs(y[j] - exact) / bound);
    }
    EXPECT_GT(worst_ratio, 0.0) << "x is rounded, so some product must differ from the float one";
  }
}

TEST(WeightQuantize, Int8RoundsToTheNearestStepOfMaxOver127) {
  std::vector<float> w(32, 0.f);
  w[0] = -2.54f;  // the scale: 0.02
  w[1] = 0.03f;   // 1.5 steps rounds away from zero
  w[2] = 0.029f;
  int8_t q[32];
  float scale;
  quantize_int8_row(w.data(), 32, 32, q, &scale);
  EXPECT_FLOAT_EQ(scale, 0.02f);
  EXPECT_EQ(q[0], -127);
  EXPECT_EQ(q[1], 2);
  EXPECT_EQ(q[2], 1);
  EXPECT_EQ(q[3], 0);
}

TEST(WeightQuantize, ScalesRoundToTheNearestFloat16AndRefuseWhatItCannotHold) {
  std::vector<float> scales = {0.02f, -0.2f, 0.f, 1e-6f, 65504.f};
  round_scales_to_float16(scales.data(), static_cast<int64_t>(scales.size()));
  EXPECT_EQ(scales[0], 0.0200042725f);  // 0x251f: 0.02 lies between it and 0x251e, nearer it
  EXPECT_EQ(scales[1], -0.199951172f);
  EXPECT_EQ(scales[2], 0.f);
  EXPECT_EQ(scales[3], 1.013278961e-06f);  // a subnormal float16
  EXPECT_EQ(scales[4], 65504.f);
  for (const float bad : {70000.f, std::numeric_limits<float>::quiet_NaN()}) {
    float scale = bad;
    EXPECT_THROW(round_scales_to_float16(&scale, 1), Error) << bad;
  }
}

TEST(WeightQuantize, Int4MapsTheSignedExtremeToCodeZeroAndPacksLowNibblesFirst) {
  std::vector<float> w(32, 0.f);
  w[0] = 1.6f;   // the extreme: scale = -0.2, code 0
  w[16] = -1.6f; // +8 steps clamps to 15
  w[1] = 0.3f;   // -1.5 steps: trunc(-1.5 + 8.5) = 7
  uint8_t q[16];
  float scale;
  quantize_int4_row(w.data(), 32, 32, q, &scale);
  EXPECT_FLOAT_EQ(scale, -0.2f);
  EXPECT_EQ(q[0], 0 | 15 << 4);
  EXPECT_EQ(q[1] & 0x0F, 7);
  EXPECT_EQ(q[2], 8 | 8 << 4);  // zeros are code 8
}

}  // namespace
}  // namespace kiln::kernels
