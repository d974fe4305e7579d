// QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, QLinearMatMul, MatMulInteger,
// ConvInteger and QLinearConv against naive loops written here: per tensor and per axis, odd sizes,
// uint8 and int8, rounding ties and saturation. The naive rounding is its own floor-based
// half-to-even, independent of the kernels' std::nearbyint.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/conv_ref.h"
#include "kernels/cpu/quant_ref.h"
#include "naive_window.h"
#include "test_util.h"

namespace kiln {
namespace {

using testing::expect_node_error;
using testing::random_tensor;
using testing::run_node;

double round_half_even(double v) {
  const double floor = std::floor(v), fraction = v - floor;
  if (fraction > 0.5 || (fraction == 0.5 && std::fmod(floor, 2.0) != 0.0)) return floor + 1.0;
  return floor;
}

// saturate(round(scaled) + zero_point) in Q's range.
template <class Q>
Q naive_quantize(double scaled, int64_t zero_point) {
  const double value = round_half_even(scaled) + static_cast<double>(zero_point);
  return static_cast<Q>(std::clamp(value, double(std::numeric_limits<Q>::min()), double(std::numeric_limits<Q>::max())));
}

template <class T>
Tensor random_ints(Shape shape, uint32_t seed, int lo = std::numeric_limits<T>::min(),
                   int hi = std::numeric_limits<T>::max()) {
  Tensor t(dtype_of<T>(), std::move(shape));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<T>()[i] = static_cast<T>(dist(rng));
  return t;
}

void expect_equal(const Tensor& actual, const Tensor& expected) { testing::expect_tensor_near(actual, expected, 0, 0); }

// The channel of element e of `shape` along `axis`, or 0 without an axis (per tensor).
int64_t channel_of(const Shape& shape, int64_t e, std::optional<size_t> axis) {
  if (!axis) return 0;
  int64_t inner = 1;
  for (size_t d = *axis + 1; d < shape.size(); ++d) inner *= shape[d];
  return (e / inner) % shape[*axis];
}

template <class Q, class In>
Tensor naive_quantize_linear(const Tensor& x, const std::vector<float>& scales, const std::vector<Q>& zero_points,
                             std::optional<size_t> axis) {
  Tensor y(dtype_of<Q>(), x.shape());
  for (int64_t e = 0; e < x.numel(); ++e) {
    const auto c = static_cast<size_t>(channel_of(x.shape(), e, axis));
    const float scaled = static_cast<float>(x.data<In>()[e]) / scales[c];  // the spec's x / y_scale, in float
    y.data<Q>()[e] = naive_quantize<Q>(scaled, zero_points[c]);
  }
  return y;
}

template <class Q>
Tensor naive_dequantize_linear(const Tensor& x, const std::vector<float>& scales, const std::vector<Q>& zero_points,
                               std::optional<size_t> axis) {
  Tensor y(DType::Float32, x.shape());
  for (int64_t e = 0; e < x.numel(); ++e) {
    const auto c = static_cast<size_t>(channel_of(x.shape(), e, axis));
    y.data<float>()[e] = static_cast<float>(double(x.data<Q>()[e]) - double(zero_points[c])) * scales[c];
  }
  return y;
}

std::map<std::string, ir::Attribute> axis_attribute(std::optional<int64_t> axis) {
  if (!axis) return {};
  return {{"axis", *axis}};
}

template <class Q>
void check_quantize_round_trip(const Shape& shape, std::optional<int64_t> axis, int64_t opset) {
  const std::optional<size_t> channel_axis =
      axis ? std::optional<size_t>(static_cast<size_t>(*axis < 0 ? *axis + int64_t(shape.size()) : *axis)) : std::nullopt;
  const int64_t channels = channel_axis ? shape[*channel_axis] : 1;
  std::vector<float> scales;
  std::vector<Q> zero_points;
  for (int64_t c = 0; c < channels; ++c) {
    scales.push_back(0.75f + 0.5f * float(c));
    zero_points.push_back(static_cast<Q>(std::is_signed_v<Q> ? 5 * c - 7 : 100 + 11 * c));
  }
  const Shape param_shape = channel_axis ? Shape{channels} : Shape{};
  const Tensor scale = Tensor::from_vector<float>(param_shape, scales);
  const Tensor zero_point = Tensor::from_vector<Q>(param_shape, zero_points);
  // The range goes past both ends of Q's so that some elements saturate.
  const Tensor x = random_tensor(shape, 7, -250.f, 250.f);

  const Tensor q = run_node({.op = "QuantizeLinear", .inputs = {x, scale, zero_point}, .attributes = axis_attribute(axis),
                             .opset = opset})[0];
  expect_equal(q, naive_quantize_linear<Q, float>(x, scales, zero_points, channel_axis));
  const Tensor dq = run_node({.op = "DequantizeLinear", .inputs = {q, scale, zero_point},
                              .attributes = axis_attribute(axis), .opset = opset})[0];
  expect_equal(dq, naive_dequantize_linear<Q>(q, scales, zero_points, channel_axis));
}

TEST(QuantOps, QuantizeLinearPerTensorMatchesNaive) {
  for (int64_t opset : {10, 13}) {
    check_quantize_round_trip<uint8_t>({3, 13}, std::nullopt, opset);
    check_quantize_round_trip<int8_t>({13}, std::nullopt, opset);
  }
}

TEST(QuantOps, QuantizeLinearPerAxisMatchesNaive) {
  for (const int64_t axis : {0, 1, 2, -1}) {
    check_quantize_round_trip<uint8_t>({3, 5, 7}, axis, 13);
    check_quantize_round_trip<int8_t>({3, 5, 7}, axis, 13);
  }
  // The default axis is 1.
  const Tensor x = random_tensor({2, 3, 5}, 3, -10.f, 10.f);
  const std::vector<float> scales = {0.1f, 0.2f, 0.3f};
  const std::vector<int8_t> zero_points = {-1, 0, 1};
  const Tensor y = run_node({.op = "QuantizeLinear",
                             .inputs = {x, Tensor::from_vector<float>({3}, scales),
                                        Tensor::from_vector<int8_t>({3}, zero_points)}})[0];
  expect_equal(y, naive_quantize_linear<int8_t, float>(x, scales, zero_points, size_t{1}));
}

TEST(QuantOps, QuantizeLinearRoundsTiesToEvenAndSaturates) {
  const Tensor x = Tensor::from_vector<float>({12}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 253.5f, 254.5f, 300.f,
                                                     -129.5f, -128.5f, 1e30f});
  const Tensor scale = Tensor::scalar<float>(1.f);
  const auto u8 = run_node({.op = "QuantizeLinear", .inputs = {x, scale, Tensor::scalar<uint8_t>(1)}})[0];
  expect_equal(u8, Tensor::from_vector<uint8_t>({12}, {1, 3, 3, 1, 0, 0, 255, 255, 255, 0, 0, 255}));
  const auto i8 = run_node({.op = "QuantizeLinear", .inputs = {x, scale, Tensor::scalar<int8_t>(0)}})[0];
  expect_equal(i8, Tensor::from_vector<int8_t>({12}, {0, 2, 2, 0, -2, -2, 127, 127, 127, -128, -128, 127}));
  // Without a zero point the output is uint8 with zero point 0; a tie after scaling rounds to even.
  const auto unsigned_default = run_node(
      {.op = "QuantizeLinear", .inputs = {Tensor::from_vector<float>({3}, {5.f, 7.f, -3.f}), Tensor::scalar<float>(2.f)}})[0];
  expect_equal(unsigned_default, Tensor::from_vector<uint8_t>({3}, {2, 4, 0}));
}

TEST(QuantOps, QuantizeLinearInt32InputAndOutputDtype) {
  const Tensor x = random_ints<int32_t>({3, 7}, 5, -5000, 5000);
  const std::vector<float> scales = {10.f, 25.f, 40.f};
  const std::vector<int8_t> zero_points = {3, -3, 0};
  const Tensor y = run_node({.op = "QuantizeLinear",
                             .inputs = {x, Tensor::from_vector<float>({3}, scales),
                                        Tensor::from_vector<int8_t>({3}, zero_points)},
                             .attributes = {{"axis", int64_t{0}}}})[0];
  expect_equal(y, naive_quantize_linear<int8_t, int32_t>(x, scales, zero_points, size_t{0}));
  // Opset 21's output_dtype picks int8 where there is no zero point.
  const Tensor int8_default = run_node({.op = "QuantizeLinear",
                                        .inputs = {Tensor::from_vector<float>({2}, {-3.f, 3.f}), Tensor::scalar<float>(1.f)},
                                        .attributes = {{"output_dtype", int64_t{3}}},
                                        .opset = 21})[0];
  expect_equal(int8_default, Tensor::from_vector<int8_t>({2}, {-3, 3}));
}

TEST(QuantOps, DequantizeLinearInt32AndAbsentZeroPoint) {
  const Tensor x = Tensor::from_vector<int32_t>({5}, {std::numeric_limits<int32_t>::min(), -7, 0, 9, 1 << 30});
  const auto y = run_node({.op = "DequantizeLinear", .inputs = {x, Tensor::scalar<float>(0.5f)}})[0];
  expect_equal(y, Tensor::from_vector<float>({5}, {-1073741824.f, -3.5f, 0.f, 4.5f, 536870912.f}));
  const Tensor q = random_ints<int8_t>({4, 13}, 9);
  const std::vector<float> scales = {0.5f, 1.f, 2.f, 0.125f};
  const auto per_row = run_node({.op = "DequantizeLinear", .inputs = {q, Tensor::from_vector<float>({4}, scales)},
                                 .attributes = {{"axis", int64_t{-2}}}})[0];
  expect_equal(per_row, naive_dequantize_linear<int8_t>(q, scales, {0, 0, 0, 0}, size_t{0}));
}

TEST(QuantOps, QuantizeLinearRejectsBadParameters) {
  const Tensor x = random_tensor({3, 4}, 1);
  expect_node_error({.op = "QuantizeLinear", .inputs = {x, Tensor::from_vector<float>({2}, {1.f, 2.f})}},
                    ErrorCode::InvalidArgument, "y_scale of shape [2] is neither a single value nor a 1-D tensor of 4 values");
  expect_node_error({.op = "QuantizeLinear", .inputs = {x, Tensor::from_vector<float>({3}, {1.f, 2.f, 3.f})}, .opset = 10},
                    ErrorCode::InvalidArgument, "which opsets before 13 require");
  expect_node_error({.op = "QuantizeLinear", .inputs = {x, Tensor::from_vector<float>({3}, {1.f, 2.f, 3.f}),
                                                        Tensor::from_vector<uint8_t>({4}, {1, 2, 3, 4})},
                     .attributes = {{"axis", int64_t{0}}}},
                    ErrorCode::InvalidArgument, "y_zero_point of shape [4]");
  expect_node_error({.op = "DequantizeLinear", .inputs = {random_ints<uint8_t>({3}, 1), Tensor::scalar<float>(1.f),
                                                          Tensor::scalar<int8_t>(0)}},
                    ErrorCode::InvalidModel, "x_zero_point has dtype int8 but the tensor it belongs to is uint8");
  expect_node_error({.op = "QuantizeLinear", .inputs = {x, Tensor::scalar<float>(1.f)},
                     .attributes = {{"block_size", int64_t{2}}}, .opset = 21},
                    ErrorCode::NotImplemented, "block_size");
}

// DynamicQuantizeLinear as the spec writes it, in float.
void check_dynamic_quantize(const Tensor& x) {
  float lo = 0.f, hi = 0.f;
  for (int64_t i = 0; i < x.numel(); ++i) lo = std::min(lo, x.data<float>()[i]), hi = std::max(hi, x.data<float>()[i]);
  const float scale = hi == lo ? 1.f : (hi - lo) / 255.f;
  const auto zero_point = static_cast<uint8_t>(round_half_even(std::clamp(0.f - lo / scale, 0.f, 255.f)));
  Tensor y(DType::UInt8, x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) y.data<uint8_t>()[i] = naive_quantize<uint8_t>(x.data<float>()[i] / scale, zero_point);

  const auto out = run_node({.op = "DynamicQuantizeLinear", .inputs = {x}, .opset = 11, .outputs = 3});
  expect_equal(out[0], y);
  expect_equal(out[1], Tensor::scalar<float>(scale));
  expect_equal(out[2], Tensor::scalar<uint8_t>(zero_point));
}

TEST(QuantOps, DynamicQuantizeLinearMatchesSpec) {
  check_dynamic_quantize(random_tensor({3, 13}, 4, -2.f, 5.f));
  check_dynamic_quantize(random_tensor({7}, 5, 1.f, 3.f));    // range extended down to 0: zero point 0
  check_dynamic_quantize(random_tensor({5}, 6, -4.f, -1.f));  // range extended up to 0: zero point 255
  const auto zeros = run_node({.op = "DynamicQuantizeLinear", .inputs = {Tensor::zeros(DType::Float32, {4})},
                               .opset = 11, .outputs = 3});
  expect_equal(zeros[0], Tensor::zeros(DType::UInt8, {4}));
  expect_equal(zeros[1], Tensor::scalar<float>(1.f));
}

// Everything QLinearMatMul needs, with parameters given at the operands' full matrix shape
// ([batch..., M, 1] for A, [batch..., 1, N] for B) so that the naive loop indexes them directly;
// the node gets the compact forms in `a_params` / `b_params` shapes.
template <class TA, class TB, class TY>
struct QLinearMatMulCase {
  Shape a_shape, b_shape;  // 3-D A and B with equal batch
  Shape a_params, b_params;
  uint32_t seed = 1;

  void check() const {
    const int64_t batches = a_shape[0], M = a_shape[1], K = a_shape[2], N = b_shape[2];
    const Tensor a = random_ints<TA>(a_shape, seed), b = random_ints<TB>(b_shape, seed + 1);
    const int64_t a_count = shape_numel(a_params), b_count = shape_numel(b_params);
    const Tensor a_zero = random_ints<TA>(a_params, seed + 2, -20, 20), b_zero = random_ints<TB>(b_params, seed + 3, -20, 20);
    const Tensor a_scale = random_tensor(a_params, seed + 4, 0.01f, 0.05f);
    const Tensor b_scale = random_tensor(b_params, seed + 5, 0.01f, 0.05f);
    const float y_scale = 0.37f;
    const TY y_zero = 3;
    // A parameter's value for row i of batch n (A) or column j (B): the compact forms hold one
    // value, one per row/column, or one per batch and row/column.
    auto a_at = [&](const Tensor& p, int64_t n, int64_t i) { return p.value_as_double(a_count == 1 ? 0 : a_count == M ? i : n * M + i); };
    auto b_at = [&](const Tensor& p, int64_t n, int64_t j) { return p.value_as_double(b_count == 1 ? 0 : b_count == N ? j : n * N + j); };

    Tensor expected(dtype_of<TY>(), {batches, M, N});
    for (int64_t n = 0; n < batches; ++n)
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          int64_t acc = 0;
          for (int64_t k = 0; k < K; ++k)
            acc += (int64_t(a.data<TA>()[(n * M + i) * K + k]) - int64_t(a_at(a_zero, n, i))) *
                   (int64_t(b.data<TB>()[(n * K + k) * N + j]) - int64_t(b_at(b_zero, n, j)));
          const float multiplier = float(a_at(a_scale, n, i)) * float(b_at(b_scale, n, j)) / y_scale;
          expected.data<TY>()[(n * M + i) * N + j] = naive_quantize<TY>(float(acc) * multiplier, y_zero);
        }
    const auto out = run_node({.op = "QLinearMatMul",
                               .inputs = {a, a_scale, a_zero, b, b_scale, b_zero, Tensor::scalar<float>(y_scale),
                                          Tensor::scalar<TY>(y_zero)},
                               .opset = 10});
    expect_equal(out[0], expected);
  }
};

TEST(QuantOps, QLinearMatMulPerTensor) {
  QLinearMatMulCase<uint8_t, uint8_t, uint8_t>{{1, 13, 7}, {1, 7, 5}, {}, {1}}.check();
  QLinearMatMulCase<int8_t, int8_t, int8_t>{{3, 1, 13}, {3, 13, 3}, {1}, {}, 2}.check();
  QLinearMatMulCase<uint8_t, int8_t, uint8_t>{{2, 5, 33}, {2, 33, 13}, {}, {}, 3}.check();
}

TEST(QuantOps, QLinearMatMulPerRowAndColumn) {
  QLinearMatMulCase<uint8_t, int8_t, int8_t>{{1, 5, 7}, {1, 7, 3}, {5}, {3}, 4}.check();
  QLinearMatMulCase<int8_t, uint8_t, uint8_t>{{2, 3, 4}, {2, 4, 6}, {2, 3, 1}, {2, 1, 6}, 5}.check();
}

TEST(QuantOps, QLinearMatMulBroadcastsBatchesAnd2DOperands) {
  // The 2-D B and its per-column parameters serve every batch of A.
  const Tensor a = random_ints<uint8_t>({3, 2, 5}, 1), b = random_ints<uint8_t>({5, 4}, 2);
  const Tensor a_scale = Tensor::scalar<float>(0.02f), b_scale = Tensor::from_vector<float>({4}, {0.01f, 0.02f, 0.03f, 0.04f});
  const Tensor a_zero = Tensor::scalar<uint8_t>(128), b_zero = Tensor::from_vector<uint8_t>({4}, {120, 125, 130, 135});
  const Tensor y_scale = Tensor::scalar<float>(0.5f), y_zero = Tensor::scalar<uint8_t>(100);
  const Tensor batched = run_node({.op = "QLinearMatMul", .inputs = {a, a_scale, a_zero, b, b_scale, b_zero, y_scale, y_zero}})[0];
  ASSERT_EQ(batched.shape(), (Shape{3, 2, 4}));
  for (int64_t n = 0; n < 3; ++n) {
    Tensor a_n(DType::UInt8, {2, 5});
    std::copy_n(a.data<uint8_t>() + n * 10, 10, a_n.data<uint8_t>());
    const Tensor one = run_node({.op = "QLinearMatMul", .inputs = {a_n, a_scale, a_zero, b, b_scale, b_zero, y_scale, y_zero}})[0];
    EXPECT_TRUE(std::equal(one.data<uint8_t>(), one.data<uint8_t>() + 8, batched.data<uint8_t>() + n * 8)) << "batch " << n;
  }
}

TEST(QuantOps, QLinearMatMulRejectsBadParameters) {
  const Tensor a = random_ints<uint8_t>({2, 3}, 1), b = random_ints<uint8_t>({3, 4}, 2);
  const Tensor one = Tensor::scalar<float>(1.f), zero = Tensor::scalar<uint8_t>(0);
  expect_node_error({.op = "QLinearMatMul", .inputs = {a, one, zero, b, one, zero, Tensor::from_vector<float>({2}, {1.f, 1.f}), zero}},
                    ErrorCode::InvalidArgument, "y_scale of shape [2] is neither a single value");
  expect_node_error({.op = "QLinearMatMul", .inputs = {a, one, zero, b, Tensor::from_vector<float>({3}, {1.f, 1.f, 1.f}), zero, one, zero}},
                    ErrorCode::InvalidArgument, "b_scale of shape [3] does not broadcast to [1,4]");
  expect_node_error({.op = "QLinearMatMul", .inputs = {a, one, Tensor::scalar<int8_t>(0), b, one, zero, one, zero}},
                    ErrorCode::InvalidModel, "a_zero_point has dtype int8 but its input is uint8");
}

TEST(QuantOps, MatMulIntegerTakesBatchedZeroPoints) {
  const Tensor a = random_ints<int8_t>({2, 3, 5}, 1), b = random_ints<int8_t>({2, 5, 2}, 2);
  const Tensor a_zero = random_ints<int8_t>({2, 3, 1}, 3), b_zero = random_ints<int8_t>({2, 1, 2}, 4);
  Tensor expected(DType::Int32, {2, 3, 2});
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 2; ++j) {
        int32_t sum = 0;
        for (int64_t k = 0; k < 5; ++k)
          sum += (a.data<int8_t>()[(n * 3 + i) * 5 + k] - a_zero.data<int8_t>()[n * 3 + i]) *
                 (b.data<int8_t>()[(n * 5 + k) * 2 + j] - b_zero.data<int8_t>()[n * 2 + j]);
        expected.data<int32_t>()[(n * 3 + i) * 2 + j] = sum;
      }
  expect_equal(run_node({.op = "MatMulInteger", .inputs = {a, b, a_zero, b_zero}})[0], expected);
}

TEST(QuantOps, IntegerGemmWrapsOnInt32Overflow) {
  // 40000 products 255 * (0 - 255) sum to -2601000000, past int32's range: the accumulator wraps.
  const int64_t K = 40000;
  const std::vector<uint8_t> a(K, 255), b(K, 0);
  const int32_t a_zero = 0, b_zero = 255;
  int32_t c = 0;
  kernels::gemm_integer_ref(1, 1, K, a.data(), &a_zero, b.data(), &b_zero, &c);
  EXPECT_EQ(c, static_cast<int32_t>(-2601000000LL + (int64_t{1} << 32)));
}

// ConvInteger's sums: sum over taps inside X of (X - x_zero) * (W - w_zero[m]); taps in the
// padding read x_zero and add nothing.
template <class TX, class TW>
Tensor naive_conv_integer(const Tensor& x, int32_t x_zero, const Tensor& w, const std::vector<int32_t>& w_zero,
                          const testing::NaiveWindow& window, int64_t groups) {
  const testing::Volume xv{x}, wv{w};
  testing::NaiveWindow with_kernel = window;
  with_kernel.kernel.assign(w.shape().begin() + 2, w.shape().end());
  const testing::Window3 win(with_kernel);
  std::array<int64_t, 3> out{};
  for (size_t d = 0; d < 3; ++d)
    out[d] = (xv.dims[d] + win.pads_begin[d] + win.pads_end[d] - win.extent(d)) / win.strides[d] + 1;
  const int64_t group_in = x.dim(1) / groups, group_out = w.dim(0) / groups;
  Tensor y(DType::Int32, testing::shape_from3(x.dim(0), w.dim(0), out, xv.rank));
  const testing::Volume yv{y};
  for (int64_t n = 0; n < x.dim(0); ++n)
    for (int64_t m = 0; m < w.dim(0); ++m)
      testing::for_each_index3(out, [&](const std::array<int64_t, 3>& o) {
        int64_t sum = 0;
        for (int64_t c = 0; c < group_in; ++c)
          testing::for_each_index3(win.kernel, [&](const std::array<int64_t, 3>& k) {
            const auto i = win.tap(o, k);
            if (testing::inside(i, xv.dims))
              sum += (int64_t(x.data<TX>()[xv.offset(n, m / group_out * group_in + c, i)]) - x_zero) *
                     (int64_t(w.data<TW>()[wv.offset(m, c, k)]) - w_zero[size_t(m)]);
          });
        y.data<int32_t>()[yv.offset(n, m, o)] = static_cast<int32_t>(sum);
      });
  return y;
}

std::map<std::string, ir::Attribute> conv_attributes(const testing::NaiveWindow& window, int64_t groups) {
  std::map<std::string, ir::Attribute> a = testing::window_node_attributes(window);
  a["group"] = groups;
  return a;
}

struct QConvCase {
  Shape x, w;
  testing::NaiveWindow window;
  int64_t groups = 1;
  bool per_channel = true;  // W's zero points and scales: one per output channel, or one value
};

template <class TX, class TW>
struct QConvInputs {
  const QConvCase& c;
  Tensor x = random_ints<TX>(c.x, 21);
  Tensor w = random_ints<TW>(c.w, 22);
  Tensor x_zero = Tensor::scalar<TX>(static_cast<TX>(std::is_signed_v<TX> ? -5 : 130));
  Tensor w_zero = random_ints<TW>(c.per_channel ? Shape{c.w[0]} : Shape{}, 23, -10, 10);

  // ConvInteger's result for these inputs.
  Tensor naive() const {
    std::vector<int32_t> w_zeros;
    for (int64_t m = 0; m < c.w[0]; ++m) w_zeros.push_back(int32_t(w_zero.value_as_int64(c.per_channel ? m : 0)));
    return naive_conv_integer<TX, TW>(x, int32_t(x_zero.value_as_int64(0)), w, w_zeros, c.window, c.groups);
  }
};

template <class TX, class TW>
void check_conv_integer(const QConvCase& c) {
  const QConvInputs<TX, TW> in{c};
  const auto out = run_node({.op = "ConvInteger", .inputs = {in.x, in.w, in.x_zero, in.w_zero},
                             .attributes = conv_attributes(c.window, c.groups), .constant_inputs = {1, 3}});
  expect_equal(out[0], in.naive());
}

TEST(QuantOps, ConvIntegerMatchesNaive) {
  check_conv_integer<uint8_t, uint8_t>({.x = {1, 3, 7, 6}, .w = {5, 3, 3, 2}, .window = {.pads_begin = {1, 0}, .pads_end = {1, 1}}});
  check_conv_integer<uint8_t, int8_t>({.x = {2, 4, 9, 7},
                                       .w = {6, 2, 3, 3},
                                       .window = {.strides = {2, 1}, .dilations = {1, 2}, .pads_begin = {2, 1}, .pads_end = {0, 2}},
                                       .groups = 2});
  check_conv_integer<int8_t, uint8_t>({.x = {1, 2, 13}, .w = {3, 2, 4}, .window = {.strides = {3}, .pads_begin = {2}, .pads_end = {2}},
                                       .per_channel = false});
  check_conv_integer<int8_t, int8_t>({.x = {2, 5, 4, 3}, .w = {7, 5, 1, 1}});  // pointwise: X is read as it is
  // Without zero points both are 0.
  const Tensor x = random_ints<uint8_t>({1, 2, 5, 5}, 3), w = random_ints<uint8_t>({3, 2, 2, 2}, 4);
  expect_equal(run_node({.op = "ConvInteger", .inputs = {x, w}})[0],
               naive_conv_integer<uint8_t, uint8_t>(x, 0, w, {0, 0, 0}, {}, 1));
}

TEST(QuantOps, ConvIntegerParallelJobsMatchNaive) {
  ThreadPool pool(3);
  const Tensor x = random_ints<uint8_t>({2, 6, 8, 11}, 5), w = random_ints<int8_t>({9, 2, 3, 3}, 6);
  const std::vector<int32_t> w_zero = {0, 1, -1, 2, -2, 3, -3, 4, -4};
  for (const int64_t groups : {int64_t{1}, int64_t{3}}) {  // 2 jobs (< 3 threads) and 6 jobs
    const Tensor wg = groups == 1 ? random_ints<int8_t>({9, 6, 3, 3}, 7) : w;
    const kernels::ConvShape shape{2, 6, 9, groups,
                                   kernels::make_window_geometry({8, 11}, {.kernel = {3, 3}, .pads = {1, 1, 1, 1}})};
    Tensor y(DType::Int32, {2, 9, 8, 11});
    kernels::compute_conv_integer(x.data<uint8_t>(), 7, wg.data<int8_t>(), w_zero.data(), y.data<int32_t>(), shape, pool);
    expect_equal(y, naive_conv_integer<uint8_t, int8_t>(x, 7, wg, w_zero, {.pads_begin = {1, 1}, .pads_end = {1, 1}}, groups));
  }
}

template <class TX, class TW, class TY>
void check_qlinear_conv(const QConvCase& c, bool with_bias) {
  const QConvInputs<TX, TW> in{c};
  const int64_t channels = c.w[0];
  const float x_scale = 0.05f, y_scale = 0.7f;
  const Tensor w_scale = random_tensor(c.per_channel ? Shape{channels} : Shape{}, 24, 0.01f, 0.1f);
  const Tensor bias = random_ints<int32_t>({channels}, 25, -3000, 3000);
  const TY y_zero = std::is_signed_v<TY> ? -4 : 120;

  Tensor expected = in.naive();
  const int64_t plane = expected.numel() / (expected.dim(0) * channels);
  Tensor y(dtype_of<TY>(), expected.shape());
  for (int64_t e = 0; e < expected.numel(); ++e) {
    const int64_t m = (e / plane) % channels;
    const float multiplier = x_scale * w_scale.data<float>()[c.per_channel ? m : 0] / y_scale;
    const int64_t acc = int64_t(expected.data<int32_t>()[e]) + (with_bias ? bias.data<int32_t>()[m] : 0);
    y.data<TY>()[e] = naive_quantize<TY>(float(acc) * multiplier, y_zero);
  }
  std::vector<Tensor> inputs = {in.x, Tensor::scalar<float>(x_scale), in.x_zero, in.w, w_scale, in.w_zero,
                                Tensor::scalar<float>(y_scale), Tensor::scalar<TY>(y_zero)};
  if (with_bias) inputs.push_back(bias);
  const auto out = run_node({.op = "QLinearConv", .inputs = inputs, .attributes = conv_attributes(c.window, c.groups),
                             .constant_inputs = {3, 4, 5, 8}});
  expect_equal(out[0], y);
}

TEST(QuantOps, QLinearConvMatchesNaive) {
  check_qlinear_conv<uint8_t, int8_t, uint8_t>(
      {.x = {2, 3, 9, 7}, .w = {5, 3, 3, 3}, .window = {.strides = {2, 2}, .pads_begin = {1, 1}, .pads_end = {1, 1}}}, true);
  check_qlinear_conv<uint8_t, uint8_t, int8_t>({.x = {1, 4, 6, 5}, .w = {6, 2, 2, 3}, .groups = 2, .per_channel = false}, true);
  check_qlinear_conv<int8_t, int8_t, int8_t>(
      {.x = {1, 3, 13}, .w = {3, 1, 3}, .window = {.dilations = {2}, .pads_begin = {2}, .pads_end = {2}}, .groups = 3}, false);
}

TEST(QuantOps, ConvIntegerAndQLinearConvRejectBadParameters) {
  const Tensor x = random_ints<uint8_t>({1, 2, 4, 4}, 1), w = random_ints<uint8_t>({3, 2, 2, 2}, 2);
  expect_node_error({.op = "ConvInteger", .inputs = {x, w, Tensor::from_vector<uint8_t>({2}, {1, 2})}},
                    ErrorCode::InvalidArgument, "x_zero_point of shape [2] is neither a single value nor a 1-D tensor of 1 values");
  const Tensor one = Tensor::scalar<float>(1.f), zero = Tensor::scalar<uint8_t>(0);
  expect_node_error({.op = "QLinearConv", .inputs = {x, one, zero, w, Tensor::from_vector<float>({2}, {1.f, 1.f}), zero, one, zero}},
                    ErrorCode::InvalidArgument, "w_scale of shape [2] is neither a single value nor a 1-D tensor of 3 values");
  expect_node_error({.op = "QLinearConv",
                     .inputs = {x, one, zero, w, one, zero, one, zero, Tensor::from_vector<float>({3}, {0.f, 0.f, 0.f})}},
                    ErrorCode::InvalidModel, "B has dtype float32; it must be int32");
}

}  // namespace
}  // namespace kiln
