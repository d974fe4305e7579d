// The vectorized activations (VecIsa::unary, reached through the Relu, Sigmoid, ... and Clip ops)
// against the reference kernels at every CPU level, and the accuracy of the vector exp, logistic,
// tanh and erf against double-precision libm.
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/cpu/vec_isa.h"
#include "level_sweep.h"

namespace kiln {
namespace {

using namespace kiln::testing;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Random values in [lo, hi] in odd shapes (vector tails, several parallel chunks), with the
// special values every kernel must get right at the front of the larger ones.
std::vector<Tensor> unary_inputs(float lo, float hi, uint32_t seed) {
  std::vector<Tensor> inputs;
  for (const Shape& shape : {Shape{1}, Shape{3}, Shape{13}, Shape{127}, Shape{1031}, Shape{3, 13, 1031}}) {
    Tensor x = random_tensor(shape, seed++, lo, hi);
    const float specials[] = {kNaN, kInf, -kInf, 0.f, -0.f, 100.f, -100.f, 1e-30f, -1e-30f, 1e-42f, 88.f, -90.f, 4.f};
    if (x.numel() >= 127) std::memcpy(x.data<float>(), specials, sizeof(specials));
    inputs.push_back(x);
  }
  return inputs;
}

struct UnaryCase {
  std::string op;
  std::map<std::string, ir::Attribute> attributes;
  float lo, hi;
  double atol, rtol;  // 0, 0: bit-identical to the reference
};

// Subnormal results carry fewer significant bits than any relative tolerance assumes.
constexpr double kSubnormal = 1.2e-38;

class FastUnary : public LevelSweep {};

TEST_P(FastUnary, ActivationsMatchReference) {
  const UnaryCase cases[] = {
      {"Relu", {}, -3.f, 3.f, 0, 0},
      {"LeakyRelu", {{"alpha", 0.1f}}, -3.f, 3.f, 0, 0},
      {"Neg", {}, -3.f, 3.f, 0, 0},
      {"Abs", {}, -3.f, 3.f, 0, 0},
      {"Sqrt", {}, 0.f, 1000.f, 0, 0},
      // The vector kernels may fuse alpha * x + beta into one rounding, which differs from the
      // reference's two by up to an ulp of the larger term where the sum cancels towards 0.
      {"HardSigmoid", {{"alpha", 0.3f}, {"beta", 0.4f}}, -5.f, 5.f, 1e-7, 1e-6},
      {"HardSwish", {}, -5.f, 5.f, 1e-7, 1e-6},
      {"Sigmoid", {}, -20.f, 20.f, kSubnormal, 1e-6},
      {"Tanh", {}, -6.f, 6.f, kSubnormal, 1e-6},
      {"Erf", {}, -4.5f, 4.5f, kSubnormal, 1e-6},
      {"Exp", {}, -90.f, 89.f, kSubnormal, 1e-6},
  };
  uint32_t seed = 1;
  for (const UnaryCase& c : cases)
    for (const Tensor& x : unary_inputs(c.lo, c.hi, seed += 10))
      expect_matches_reference({.op = c.op, .inputs = {x}, .attributes = c.attributes, .opset = 17}, c.atol, c.rtol);
}

// ONNX Gelu (opset 20) and kiln.Gelu, which FuseGelu makes: both forms vectorized. Past x = -4 the exact form is x times a
// difference from 1 that erf's absolute error dominates, hence the absolute tolerance.
TEST_P(FastUnary, GeluMatchesReference) {
  uint32_t seed = 200;
  for (const Tensor& x : unary_inputs(-6.f, 6.f, seed)) {
    expect_matches_reference({.op = "Gelu", .inputs = {x}, .opset = 20}, 1e-6, 1e-6);
    expect_matches_reference({.op = "Gelu", .inputs = {x}, .attributes = {{"approximate", std::string("tanh")}}, .opset = 20},
                             1e-6, 1e-6);
    expect_matches_reference({.op = "Gelu", .inputs = {x}, .opset = 1, .domain = "kiln"}, 1e-6, 1e-6);
  }
  const Tensor x = Tensor::from_vector<float>({4}, {-3.f, -0.5f, 0.5f, 2.f});
  const Tensor exact = run_node({.op = "Gelu", .inputs = {x}, .opset = 20})[0];
  const Tensor tanh_form = run_node({.op = "Gelu", .inputs = {x}, .attributes = {{"approximate", std::string("tanh")}}, .opset = 20})[0];
  for (int64_t i = 0; i < 4; ++i) {
    const double v = x.data<float>()[i];
    EXPECT_NEAR(exact.data<float>()[i], 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))), 1e-6);
    EXPECT_NEAR(tanh_form.data<float>()[i], 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))), 1e-6);
  }
  expect_error_containing({.op = "Gelu", .inputs = {x}, .attributes = {{"approximate", std::string("sigmoid")}}, .opset = 20},
                          "approximate must be");
}

// kiln.Silu (FuseSilu's), x * sigmoid(x), through the vector logistic.
TEST_P(FastUnary, SiluMatchesReference) {
  for (const Tensor& x : unary_inputs(-20.f, 20.f, 300))
    expect_matches_reference({.op = "Silu", .inputs = {x}, .opset = 1, .domain = "kiln"}, kSubnormal, 1e-6);
}

TEST_P(FastUnary, ClipMatchesReferenceForAttributeAndInputBounds) {
  uint32_t seed = 100;
  for (const Tensor& x : unary_inputs(-3.f, 3.f, seed)) {
    expect_matches_reference({.op = "Clip", .inputs = {x}, .attributes = {{"min", -0.5f}, {"max", 0.7f}}, .opset = 6},
                             0, 0);
    const Tensor lo = Tensor::from_vector<float>({}, {-1.f}), hi = Tensor::from_vector<float>({}, {0.25f});
    expect_matches_reference({.op = "Clip", .inputs = {x, lo, hi}, .opset = 13}, 0, 0);
    expect_matches_reference({.op = "Clip", .inputs = {x, Tensor(), hi}, .opset = 13}, 0, 0);
    expect_matches_reference({.op = "Clip", .inputs = {x}, .opset = 13}, 0, 0);
  }
}

TEST_P(FastUnary, OtherDtypesKeepTheReferencePath) {
  const Tensor x = Tensor::from_vector<double>({4}, {-2.0, -0.5, 0.5, 2.0});
  NodeSpec spec{.op = "Sigmoid", .inputs = {x}, .cpu_level = cpu_level_name(GetParam())};
  const Tensor y = run_node(spec)[0];
  ASSERT_EQ(y.dtype(), DType::Float64);
  for (int64_t i = 0; i < 4; ++i)
    EXPECT_DOUBLE_EQ(y.data<double>()[i], 1.0 / (1.0 + std::exp(-x.data<double>()[i])));
}

// The distance from `actual` to the double-precision `expected` in units of the float spacing at
// `expected` (subnormal spacing below the normal range).
double ulp_error(float actual, double expected) {
  const float rounded = static_cast<float>(expected);
  const float magnitude = std::abs(rounded);
  const double ulp = std::nextafter(magnitude, kInf) - magnitude;
  return std::abs(actual - expected) / ulp;
}

TEST_P(FastUnary, VectorMathStaysWithinAFewUlps) {
  const kernels::VecIsa* isa = kernels::vec_isa(GetParam());
  if (!isa) GTEST_SKIP() << "the Scalar level has no vector kernels";
  struct Accuracy {
    kernels::UnaryKind kind;
    double (*reference)(double);
    float lo, hi;
    double max_ulps;
  };
  const Accuracy functions[] = {
      {kernels::UnaryKind::Exp, [](double v) { return std::exp(v); }, -103.f, 88.7f, 1.5},
      {kernels::UnaryKind::Sigmoid, [](double v) { return 1 / (1 + std::exp(-v)); }, -87.f, 30.f, 3},
      {kernels::UnaryKind::Tanh, [](double v) { return std::tanh(v); }, -10.f, 10.f, 1.5},
      {kernels::UnaryKind::Erf, [](double v) { return std::erf(v); }, -5.f, 5.f, 1.5},
  };
  // Every exponent (a sweep of bit patterns) and, evenly spaced, every branch and branch boundary.
  for (const Accuracy& f : functions) {
    std::vector<float> x;
    for (uint32_t bits = 0; bits < 0x7f800000u; bits += 4093) {
      const float v = std::bit_cast<float>(bits);
      for (float signed_v : {v, -v})
        if (signed_v >= f.lo && signed_v <= f.hi) x.push_back(signed_v);
    }
    for (int i = 0; i <= 1 << 19; ++i) x.push_back(f.lo + (f.hi - f.lo) * static_cast<float>(i) / (1 << 19));
    std::vector<float> y(x.size());
    isa->unary({f.kind}, x.data(), y.data(), static_cast<int64_t>(x.size()));
    double worst = 0;
    float worst_at = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      const double e = ulp_error(y[i], f.reference(x[i]));
      if (e > worst) worst = e, worst_at = x[i];
    }
    EXPECT_LE(worst, f.max_ulps) << "unary kind " << static_cast<int>(f.kind) << " worst at x = " << worst_at
                                 << " over " << x.size() << " points";
  }
}

KILN_INSTANTIATE_LEVEL_SWEEP(FastUnary);

}  // namespace
}  // namespace kiln
