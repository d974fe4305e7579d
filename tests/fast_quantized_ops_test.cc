// The int8 kernels of quantized ONNX ops against their references, bit for bit: QLinearConv and
// ConvInteger with constant weights run on the int8 GEMM (kernels/cpu/qconv.h), and with weights
// fed at run time on the scalar reference (compute_conv_integer), which is the oracle here; so do
// MatMulInteger and QLinearMatMul (gemm_integer_ref), at every CPU level and on 1 and 3 threads.
// Also the per-tensor QuantizeLinear/DequantizeLinear kernels and kiln.QGemm.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "kernels/cpu/quant_ref.h"
#include "kernels/cpu/qlinear_add.h"
#include "kernels/cpu/quantize_linear.h"
#include "kernels/cpu/transpose_bytes.h"
#include "level_sweep.h"

namespace kiln::testing {
namespace {

template <class T>
Tensor random_codes(Shape shape, uint32_t seed) {
  Tensor t(dtype_of<T>(), std::move(shape));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(std::numeric_limits<T>::lowest(), std::numeric_limits<T>::max());
  for (int64_t i = 0; i < t.numel(); ++i) t.data<T>()[i] = static_cast<T>(dist(rng));
  return t;
}

Tensor codes(DType dtype, Shape shape, uint32_t seed) {
  return dtype == DType::UInt8 ? random_codes<uint8_t>(std::move(shape), seed) : random_codes<int8_t>(std::move(shape), seed);
}

Tensor zero_point(DType dtype, int32_t value) {
  return dtype == DType::UInt8 ? Tensor::scalar<uint8_t>(static_cast<uint8_t>(value))
                               : Tensor::scalar<int8_t>(static_cast<int8_t>(value));
}

Tensor per_channel_zero_points(DType dtype, int64_t channels, uint32_t seed) {
  Tensor t = codes(dtype, {channels}, seed);
  return t;
}

Tensor scales(int64_t n, uint32_t seed) {
  Tensor t(DType::Float32, {n});
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(0.001f, 0.02f);
  for (int64_t i = 0; i < n; ++i) t.data<float>()[i] = dist(rng);
  return t;
}

class FastQuantizedOps : public LevelSweep {
 protected:
  // The prepared path (constant inputs `constants`) at the level under test against the reference
  // path (nothing constant) at the scalar level, exactly.
  void expect_prepared_matches_reference(NodeSpec spec, std::vector<size_t> constants) const {
    spec.cpu_level = cpu_level_name(CpuLevel::Scalar);
    spec.threads = 1;
    spec.constant_inputs.clear();
    const std::vector<Tensor> expected = run_node(spec);
    spec.constant_inputs = std::move(constants);
    spec.cpu_level = cpu_level_name(GetParam());
    for (int threads : {1, 3}) {
      spec.threads = threads;
      const std::vector<Tensor> actual = run_node(spec);
      SCOPED_TRACE(::testing::Message() << spec.op << " at " << spec.cpu_level << " on " << threads << " threads, x "
                                        << shape_to_string(spec.inputs[0].shape()));
      expect_tensor_near(actual[0], expected[0], 0, 0);
    }
  }
};

struct ConvCase {
  int64_t batch, channels, out_channels, height, width, kernel, stride, pad, dilation, groups;
};

const ConvCase kConvCases[] = {
    {1, 3, 16, 13, 11, 3, 1, 1, 1, 1},  {2, 17, 5, 9, 9, 1, 1, 0, 1, 1},   {1, 16, 33, 8, 8, 3, 2, 1, 1, 1},
    {1, 7, 19, 12, 10, 5, 1, 2, 2, 1},  {1, 8, 8, 7, 7, 3, 1, 1, 1, 8},    {1, 12, 18, 9, 7, 3, 1, 0, 1, 3},
    {1, 64, 64, 14, 14, 1, 2, 0, 1, 1}, {1, 32, 48, 17, 17, 3, 1, 1, 1, 1},
    // Depthwise (qconv_depthwise.h): odd channel counts, stride 2, a dilated 5x5.
    {1, 33, 33, 9, 11, 3, 2, 1, 1, 33}, {2, 17, 17, 8, 8, 5, 1, 2, 2, 17},
};

TEST_P(FastQuantizedOps, QLinearConvMatchesTheReference) {
  uint32_t seed = 1;
  for (const ConvCase& c : kConvCases)
    for (DType x_type : {DType::UInt8, DType::Int8})
      for (DType w_type : {DType::Int8, DType::UInt8})
        for (bool per_channel : {true, false}) {
          const int64_t kernel = c.kernel, cg = c.channels / c.groups;
          NodeSpec spec;
          spec.op = "QLinearConv";
          spec.inputs = {codes(x_type, {c.batch, c.channels, c.height, c.width}, seed++),
                         Tensor::scalar<float>(0.02f),
                         zero_point(x_type, x_type == DType::UInt8 ? 131 : -3),
                         codes(w_type, {c.out_channels, cg, kernel, kernel}, seed++),
                         per_channel ? scales(c.out_channels, seed++) : Tensor::scalar<float>(0.01f),
                         per_channel ? per_channel_zero_points(w_type, c.out_channels, seed++) : zero_point(w_type, 0),
                         Tensor::scalar<float>(0.5f),
                         zero_point(x_type, x_type == DType::UInt8 ? 128 : 0),
                         random_codes<int8_t>({c.out_channels}, seed++)};
          Tensor bias(DType::Int32, {c.out_channels});
          for (int64_t m = 0; m < c.out_channels; ++m) bias.data<int32_t>()[m] = static_cast<int32_t>(m * 977 - 5000);
          spec.inputs[8] = bias;
          spec.attributes = {{"kernel_shape", std::vector<int64_t>{kernel, kernel}},
                             {"strides", std::vector<int64_t>{c.stride, c.stride}},
                             {"pads", std::vector<int64_t>{c.pad, c.pad, c.pad, c.pad}},
                             {"dilations", std::vector<int64_t>{c.dilation, c.dilation}},
                             {"group", c.groups}};
          expect_prepared_matches_reference(spec, {3, 5});
        }
}

// A product that rounds to exactly 38.5 in float although 5306 * 0.007255937 is a little more: the
// reference rounds that tie to 38; a kernel whose multiply and rounding were fused (an FMA) gave 39.
TEST_P(FastQuantizedOps, DepthwiseRoundsTheFloatProductAsTheReference) {
  NodeSpec spec;
  spec.op = "QLinearConv";
  Tensor x(DType::UInt8, {1, 2, 1, 1});
  x.data<uint8_t>()[0] = x.data<uint8_t>()[1] = 200;
  Tensor w(DType::Int8, {2, 1, 1, 1});
  w.data<int8_t>()[0] = w.data<int8_t>()[1] = 26;
  spec.inputs = {x, Tensor::scalar<float>(0.007255937f), zero_point(DType::UInt8, 0), w, Tensor::scalar<float>(1.f),
                 zero_point(DType::Int8, 0), Tensor::scalar<float>(1.f), zero_point(DType::UInt8, 0),
                 Tensor::from_vector<int32_t>({2}, {106, 106})};
  spec.attributes = {{"group", int64_t{2}}};
  expect_prepared_matches_reference(spec, {3, 5});
  spec.constant_inputs = {3, 5};
  spec.cpu_level = cpu_level_name(GetParam());
  EXPECT_EQ(run_node(spec)[0].data<uint8_t>()[0], 38);
}

// Biases so large that a sum plus its bias leaves int32: the depthwise kernel's int64 path.
TEST_P(FastQuantizedOps, DepthwiseWithHugeBiasesMatchesTheReference) {
  const int64_t C = 19;
  Tensor bias(DType::Int32, {C});
  for (int64_t c = 0; c < C; ++c) bias.data<int32_t>()[c] = c % 2 ? 2147483000 : -2147483000;
  NodeSpec spec;
  spec.op = "QLinearConv";
  spec.inputs = {codes(DType::UInt8, {1, C, 6, 7}, 1), Tensor::scalar<float>(0.02f), zero_point(DType::UInt8, 3),
                 codes(DType::Int8, {C, 1, 3, 3}, 2), scales(C, 3), zero_point(DType::Int8, 0),
                 Tensor::scalar<float>(1e6f), zero_point(DType::UInt8, 128), bias};
  spec.attributes = {{"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"group", C}};
  expect_prepared_matches_reference(spec, {3, 5});
}

TEST_P(FastQuantizedOps, ConvIntegerMatchesTheReference) {
  uint32_t seed = 100;
  for (const ConvCase& c : kConvCases) {
    NodeSpec spec;
    spec.op = "ConvInteger";
    spec.inputs = {codes(DType::UInt8, {c.batch, c.channels, c.height, c.width}, seed++),
                   codes(DType::Int8, {c.out_channels, c.channels / c.groups, c.kernel, c.kernel}, seed++),
                   zero_point(DType::UInt8, 7), zero_point(DType::Int8, 0)};
    spec.attributes = {{"strides", std::vector<int64_t>{c.stride, c.stride}},
                       {"pads", std::vector<int64_t>{c.pad, c.pad, c.pad, c.pad}},
                       {"dilations", std::vector<int64_t>{c.dilation, c.dilation}},
                       {"group", c.groups}};
    expect_prepared_matches_reference(spec, {1, 3});
  }
}

TEST_P(FastQuantizedOps, MatMulIntegerAndQLinearMatMulMatchTheReference) {
  uint32_t seed = 200;
  for (const auto& [a_shape, K, N] : std::vector<std::tuple<Shape, int64_t, int64_t>>{
           {{5, 7}, 7, 3}, {{2, 13, 31}, 31, 17}, {{64, 128}, 128, 65}, {{1, 300}, 300, 16}})
    for (DType a_type : {DType::UInt8, DType::Int8}) {
      NodeSpec integer;
      integer.op = "MatMulInteger";
      integer.inputs = {codes(a_type, a_shape, seed++), codes(DType::Int8, {K, N}, seed++), zero_point(a_type, 5),
                        per_channel_zero_points(DType::Int8, N, seed++)};
      expect_prepared_matches_reference(integer, {1, 3});
      NodeSpec linear;
      linear.op = "QLinearMatMul";
      linear.inputs = {codes(a_type, a_shape, seed++), Tensor::scalar<float>(0.03f), zero_point(a_type, 9),
                       codes(DType::UInt8, {K, N}, seed++), scales(N, seed++), per_channel_zero_points(DType::UInt8, N, seed++),
                       Tensor::scalar<float>(0.7f), zero_point(a_type, 1)};
      expect_prepared_matches_reference(linear, {3, 5});
    }
}

// kiln.QGemm has no reference path of its own: the oracle is gemm_integer_ref plus requantize_ref.
TEST_P(FastQuantizedOps, QGemmMatchesIntegerGemmThenRequantize) {
  const int64_t M = 7, K = 37, N = 19;
  const Tensor a = random_codes<uint8_t>({M, K}, 1), b = random_codes<int8_t>({N, K}, 2);  // transB
  const Tensor b_scales = scales(N, 3);
  Tensor bias(DType::Int32, {N});
  for (int64_t j = 0; j < N; ++j) bias.data<int32_t>()[j] = static_cast<int32_t>(j * 31 - 200);
  NodeSpec spec;
  spec.op = "QGemm";
  spec.domain = "kiln";
  spec.opset = 1;
  spec.attributes = {{"transB", int64_t{1}}};
  spec.inputs = {a, Tensor::scalar<float>(0.05f), Tensor::scalar<uint8_t>(100), b, b_scales, Tensor::scalar<int8_t>(0),
                 bias, Tensor::scalar<float>(0.25f), Tensor::scalar<uint8_t>(120)};
  spec.constant_inputs = {3, 4, 5};
  spec.cpu_level = cpu_level_name(GetParam());
  std::vector<int8_t> b_kn(static_cast<size_t>(K * N));
  for (int64_t k = 0; k < K; ++k)
    for (int64_t j = 0; j < N; ++j) b_kn[static_cast<size_t>(k * N + j)] = b.data<int8_t>()[j * K + k];
  std::vector<int32_t> acc(static_cast<size_t>(M * N)), a_zero(static_cast<size_t>(M), 100), b_zero(static_cast<size_t>(N), 0);
  kernels::gemm_integer_ref(M, N, K, a.data<uint8_t>(), a_zero.data(), b_kn.data(), b_zero.data(), acc.data());
  Tensor expected(DType::UInt8, {M, N});
  std::vector<float> multipliers(static_cast<size_t>(N));
  for (int64_t j = 0; j < N; ++j) multipliers[static_cast<size_t>(j)] = 0.05f * b_scales.data<float>()[j] / 0.25f;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j)
      kernels::requantize_ref(1, &acc[static_cast<size_t>(i * N + j)], bias.data<int32_t>()[j], &multipliers[static_cast<size_t>(j)],
                              0, 120, expected.data<uint8_t>() + i * N + j);
  for (int threads : {1, 3}) {
    spec.threads = threads;
    expect_tensor_near(run_node(spec)[0], expected, 0, 0);
  }
  // Without y_scale the output is float: (sums + C) * a_scale * b_scale.
  spec.inputs.resize(7);
  const Tensor y = run_node(spec)[0];
  ASSERT_EQ(y.dtype(), DType::Float32);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      const double exact = (static_cast<double>(acc[static_cast<size_t>(i * N + j)]) + bias.data<int32_t>()[j]) * 0.05 *
                           b_scales.data<float>()[j];
      EXPECT_NEAR(y.data<float>()[i * N + j], exact, 1e-5 * std::fabs(exact) + 1e-6);
    }
}

TEST_P(FastQuantizedOps, PerTensorQuantizeAndDequantizeMatchTheReference) {
  std::vector<float> x = float_values(random_tensor({1003}, 5, -300.f, 300.f));
  // Ties to even, saturation both ways, NaN and infinities.
  for (float v : {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 1e9f, -1e9f, std::numeric_limits<float>::quiet_NaN(),
                  std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()})
    x.push_back(v);
  const auto n = static_cast<int64_t>(x.size());
  for (int32_t zp : {0, 128, 37}) {
    std::vector<uint8_t> expected(x.size()), actual(x.size());
    kernels::quantize_linear_ref(x.data(), expected.data(), 0, n, {}, std::vector<float>{1.f}.data(), &zp);
    kernels::quantize_per_tensor(GetParam(), x.data(), actual.data(), n, 1.f, zp);
    EXPECT_EQ(actual, expected) << "uint8, zero point " << zp;
    std::vector<float> back(x.size()), back_expected(x.size());
    const float scale = 0.37f;
    kernels::dequantize_linear_ref(actual.data(), back_expected.data(), 0, n, {}, &scale, &zp);
    kernels::dequantize_per_tensor(GetParam(), actual.data(), back.data(), n, scale, zp);
    EXPECT_EQ(back, back_expected);
  }
  std::vector<int8_t> expected(x.size()), actual(x.size());
  const int32_t zp = -5;
  const float scale = 2.f;
  kernels::quantize_linear_ref(x.data(), expected.data(), 0, n, {}, &scale, &zp);
  kernels::quantize_per_tensor(GetParam(), x.data(), actual.data(), n, scale, zp);
  EXPECT_EQ(actual, expected) << "int8 (NaN becomes 0, not the lowest value)";
}

TEST_P(FastQuantizedOps, QLinearAddMatchesTheReference) {
  const auto params = kernels::qlinear_add_params(0.0173f, 120, 0.0131f, 77, 0.0219f, 90);
  for (int64_t n : {1, 15, 16, 17, 100, 1027}) {
    const Tensor a = random_codes<uint8_t>({n}, static_cast<uint32_t>(n)), b = random_codes<uint8_t>({n}, 7);
    for (bool single : {false, true}) {
      std::vector<uint8_t> expected(static_cast<size_t>(n)), actual(static_cast<size_t>(n));
      kernels::qlinear_add_ref(a.data<uint8_t>(), b.data<uint8_t>(), single, n, params, expected.data());
      kernels::qlinear_add(GetParam(), a.data<uint8_t>(), b.data<uint8_t>(), single, n, params, actual.data());
      EXPECT_EQ(actual, expected) << n << (single ? " single b" : "");
    }
    const Tensor sa = random_codes<int8_t>({n}, 3), sb = random_codes<int8_t>({n}, 4);
    const auto signed_params = kernels::qlinear_add_params(0.02f, -3, 0.05f, 5, 0.04f, 0);
    std::vector<int8_t> expected(static_cast<size_t>(n)), actual(static_cast<size_t>(n));
    kernels::qlinear_add_ref(sa.data<int8_t>(), sb.data<int8_t>(), false, n, signed_params, expected.data());
    kernels::qlinear_add(GetParam(), sa.data<int8_t>(), sb.data<int8_t>(), false, n, signed_params, actual.data());
    EXPECT_EQ(actual, expected) << n << " int8";
  }
}

TEST_P(FastQuantizedOps, DynamicQuantizationParametersMatchTheReference) {
  for (int64_t n : {0, 1, 15, 16, 17, 1000, 4099}) {
    std::vector<float> x = float_values(random_tensor({std::max<int64_t>(n, 1)}, static_cast<uint32_t>(n), -3.f, 5.f));
    x.resize(static_cast<size_t>(n));
    if (n > 20) x[7] = std::numeric_limits<float>::quiet_NaN(), x[n - 1] = -0.f;
    for (bool positive : {false, true}) {
      if (positive)
        for (float& v : x) v = std::fabs(v);
      const auto expected = kernels::dynamic_quant_params_uint8(x.data(), n);
      const auto actual = kernels::dynamic_quant_params_uint8(GetParam(), x.data(), n);
      EXPECT_EQ(actual.scale, expected.scale) << n;
      EXPECT_EQ(actual.zero_point, expected.zero_point) << n;
    }
  }
}

KILN_INSTANTIATE_LEVEL_SWEEP(FastQuantizedOps);

// The byte transpose's 16 x 16 blocks and its edges, against the plain loop, with the int8 flip,
// a column range and strides wider than the matrix.
TEST(TransposeBytes, MatchesThePlainLoop) {
  for (const auto& [rows, cols, begin] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
           {1, 1, 0}, {16, 16, 0}, {17, 33, 0}, {3, 50, 0}, {40, 70, 16}, {64, 5, 0}})
    for (uint8_t flip : {uint8_t{0}, uint8_t{0x80}}) {
      const int64_t src_ld = cols + 3, dst_ld = rows + 5;
      const Tensor src = random_codes<uint8_t>({rows * src_ld}, static_cast<uint32_t>(rows * 131 + cols));
      std::vector<uint8_t> dst(static_cast<size_t>(cols * dst_ld), 0), expected = dst;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = begin; c < cols; ++c)
          expected[static_cast<size_t>(c * dst_ld + r)] = src.data<uint8_t>()[r * src_ld + c] ^ flip;
      kernels::transpose_bytes(src.data<uint8_t>(), rows, src_ld, dst.data(), dst_ld, flip, begin, cols);
      EXPECT_EQ(dst, expected) << rows << " x " << cols << " from column " << begin;
    }
}

}  // namespace
}  // namespace kiln::testing
