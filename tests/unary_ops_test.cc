#include <cmath>
#include <functional>
#include <limits>

#include "test_util.h"

namespace kiln {
namespace {

using namespace kiln::testing;

// Applies `reference` in double precision to every element of a float tensor.
Tensor map_reference(const Tensor& x, const std::function<double(double)>& reference) {
  Tensor out(DType::Float32, x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) out.data<float>()[i] = static_cast<float>(reference(x.data<float>()[i]));
  return out;
}

struct UnaryCase {
  std::string op;
  std::map<std::string, ir::Attribute> attributes;
  std::function<double(double)> reference;
  float lo = -3.f, hi = 3.f;  // input range inside the op's domain
};

double logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }

const std::vector<UnaryCase>& float_cases() {
  static const std::vector<UnaryCase> cases = {
      {"Relu", {}, [](double x) { return std::max(x, 0.0); }},
      {"LeakyRelu", {}, [](double x) { return x < 0 ? 0.01 * x : x; }},
      {"LeakyRelu", {{"alpha", 0.3f}}, [](double x) { return x < 0 ? 0.3 * x : x; }},
      {"Sigmoid", {}, logistic, -30.f, 30.f},
      {"Tanh", {}, [](double x) { return std::tanh(x); }},
      {"Erf", {}, [](double x) { return std::erf(x); }},
      {"Elu", {}, [](double x) { return x < 0 ? std::exp(x) - 1 : x; }},
      {"Elu", {{"alpha", 2.f}}, [](double x) { return x < 0 ? 2 * (std::exp(x) - 1) : x; }},
      {"Selu", {}, [](double x) { return 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * (std::exp(x) - 1)); }},
      {"Selu", {{"alpha", 2.f}, {"gamma", 3.f}}, [](double x) { return 3 * (x > 0 ? x : 2 * (std::exp(x) - 1)); }},
      {"Celu", {{"alpha", 2.f}}, [](double x) { return std::max(0.0, x) + std::min(0.0, 2 * (std::exp(x / 2) - 1)); }},
      {"HardSigmoid", {}, [](double x) { return std::clamp(0.2 * x + 0.5, 0.0, 1.0); }},
      {"HardSigmoid", {{"alpha", 0.5f}, {"beta", 0.25f}}, [](double x) { return std::clamp(0.5 * x + 0.25, 0.0, 1.0); }},
      {"HardSwish", {}, [](double x) { return x * std::clamp(x / 6 + 0.5, 0.0, 1.0); }, -5.f, 5.f},
      {"Softplus", {}, [](double x) { return std::log(1 + std::exp(x)); }, -20.f, 20.f},
      {"Softsign", {}, [](double x) { return x / (1 + std::abs(x)); }},
      {"ThresholdedRelu", {}, [](double x) { return x > 1 ? x : 0; }},
      {"ThresholdedRelu", {{"alpha", -0.5f}}, [](double x) { return x > -0.5 ? x : 0; }},
      {"Shrink", {}, [](double x) { return x < -0.5 ? x : x > 0.5 ? x : 0; }},
      {"Shrink", {{"lambd", 1.5f}, {"bias", 0.25f}}, [](double x) { return x < -1.5 ? x + 0.25 : x > 1.5 ? x - 0.25 : 0; }},
      {"Sqrt", {}, [](double x) { return std::sqrt(x); }, 0.f, 9.f},
      {"Exp", {}, [](double x) { return std::exp(x); }},
      {"Log", {}, [](double x) { return std::log(x); }, 0.01f, 9.f},
      {"Neg", {}, [](double x) { return -x; }},
      {"Abs", {}, [](double x) { return std::abs(x); }},
      {"Reciprocal", {}, [](double x) { return 1 / x; }, 0.1f, 5.f},
      {"Floor", {}, [](double x) { return std::floor(x); }},
      {"Ceil", {}, [](double x) { return std::ceil(x); }},
      {"Sign", {}, [](double x) { return (x > 0) - (x < 0); }},
      {"Sin", {}, [](double x) { return std::sin(x); }},
      {"Cos", {}, [](double x) { return std::cos(x); }},
      {"Tan", {}, [](double x) { return std::tan(x); }, -1.f, 1.f},
      {"Asin", {}, [](double x) { return std::asin(x); }, -1.f, 1.f},
      {"Acos", {}, [](double x) { return std::acos(x); }, -1.f, 1.f},
      {"Atan", {}, [](double x) { return std::atan(x); }},
      {"Sinh", {}, [](double x) { return std::sinh(x); }},
      {"Cosh", {}, [](double x) { return std::cosh(x); }},
      {"Asinh", {}, [](double x) { return std::asinh(x); }},
      {"Acosh", {}, [](double x) { return std::acosh(x); }, 1.f, 9.f},
      {"Atanh", {}, [](double x) { return std::atanh(x); }, -0.99f, 0.99f},
  };
  return cases;
}

TEST(UnaryOps, FloatOpsMatchDoubleReference) {
  uint32_t seed = 1;
  for (const auto& c : float_cases()) {
    SCOPED_TRACE(c.op);
    // 13 x 7 elements run in one chunk; 3 x 13 x 1031 spans several parallel chunks and a tail.
    for (Shape shape : {Shape{13, 7}, Shape{3, 13, 1031}}) {
      const Tensor x = random_tensor(shape, seed++, c.lo, c.hi);
      const auto out = run_node({.op = c.op, .inputs = {x}, .attributes = c.attributes, .opset = 18});
      expect_tensor_near(out[0], map_reference(x, c.reference), 1e-6, 1e-5);
    }
  }
}

TEST(UnaryOps, DoubleInputsKeepTheirDtype) {
  const Tensor x = Tensor::from_vector<double>({3}, {-1.0, 0.0, 2.0});
  const auto out = run_node({.op = "Exp", .inputs = {x}});
  expect_tensor_near(out[0], Tensor::from_vector<double>({3}, {std::exp(-1.0), 1.0, std::exp(2.0)}), 1e-12, 1e-12);
}

TEST(UnaryOps, SigmoidAndSoftplusStayFiniteAtExtremes) {
  const Tensor x = Tensor::from_vector<float>({4}, {-1000.f, -100.f, 100.f, 1000.f});
  expect_tensor_near(run_node({.op = "Sigmoid", .inputs = {x}})[0], Tensor::from_vector<float>({4}, {0, 0, 1, 1}));
  expect_tensor_near(run_node({.op = "Softplus", .inputs = {x}})[0],
                     Tensor::from_vector<float>({4}, {0, 0, 100, 1000}));
}

TEST(UnaryOps, RoundHalvesToEven) {
  const Tensor x = Tensor::from_vector<float>({8}, {-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 2.4f, 2.6f});
  const auto out = run_node({.op = "Round", .inputs = {x}});
  expect_tensor_near(out[0], Tensor::from_vector<float>({8}, {-2, -2, 0, 0, 2, 2, 2, 3}), 0, 0);
}

TEST(UnaryOps, IntegerAbsNegWrapTheMostNegativeValue) {
  const Tensor x = Tensor::from_vector<int8_t>({4}, {-128, -5, 0, 127});
  expect_tensor_near(run_node({.op = "Abs", .inputs = {x}})[0], Tensor::from_vector<int8_t>({4}, {-128, 5, 0, 127}));
  expect_tensor_near(run_node({.op = "Neg", .inputs = {x}})[0], Tensor::from_vector<int8_t>({4}, {-128, 5, 0, -127}));
  const int32_t lowest = std::numeric_limits<int32_t>::min();
  const Tensor y = Tensor::from_vector<int32_t>({3}, {lowest, -7, 9});
  expect_tensor_near(run_node({.op = "Neg", .inputs = {y}})[0], Tensor::from_vector<int32_t>({3}, {lowest, 7, -9}));
}

TEST(UnaryOps, IntegerReluAndSign) {
  const Tensor x = Tensor::from_vector<int64_t>({5}, {-9, -1, 0, 1, 42});
  expect_tensor_near(run_node({.op = "Relu", .inputs = {x}})[0], Tensor::from_vector<int64_t>({5}, {0, 0, 0, 1, 42}));
  expect_tensor_near(run_node({.op = "Sign", .inputs = {x}})[0], Tensor::from_vector<int64_t>({5}, {-1, -1, 0, 1, 1}));
  const Tensor u = Tensor::from_vector<uint16_t>({3}, {0, 1, 65535});
  expect_tensor_near(run_node({.op = "Sign", .inputs = {u}})[0], Tensor::from_vector<uint16_t>({3}, {0, 1, 1}));
  expect_tensor_near(run_node({.op = "Abs", .inputs = {u}})[0], u);
}

TEST(UnaryOps, SignKeepsNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const auto out = run_node({.op = "Sign", .inputs = {Tensor::from_vector<float>({3}, {nan, -0.f, -3.f})}});
  expect_tensor_near(out[0], Tensor::from_vector<float>({3}, {nan, 0, -1}));
}

TEST(UnaryOps, PredicatesProduceBool) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = Tensor::from_vector<float>({4}, {-inf, nan, 1.f, inf});
  expect_tensor_near(run_node({.op = "IsNaN", .inputs = {x}})[0],
                     Tensor::from_vector<bool>({4}, {false, true, false, false}));
  expect_tensor_near(run_node({.op = "IsInf", .inputs = {x}})[0],
                     Tensor::from_vector<bool>({4}, {true, false, false, true}));
  expect_tensor_near(run_node({.op = "IsInf", .inputs = {x}, .attributes = {{"detect_negative", int64_t{0}}}})[0],
                     Tensor::from_vector<bool>({4}, {false, false, false, true}));
  expect_tensor_near(run_node({.op = "IsInf", .inputs = {x}, .attributes = {{"detect_positive", int64_t{0}}}})[0],
                     Tensor::from_vector<bool>({4}, {true, false, false, false}));
  expect_tensor_near(run_node({.op = "Not", .inputs = {Tensor::from_vector<bool>({2}, {true, false})}})[0],
                     Tensor::from_vector<bool>({2}, {false, true}));
}

TEST(UnaryOps, RejectsUnsupportedDtypesAndBadAttributes) {
  expect_node_error({.op = "Sqrt", .inputs = {Tensor::from_vector<int32_t>({1}, {4})}}, ErrorCode::NotImplemented,
                    "no CPU kernel for opset 17 with input dtypes (int32)");
  expect_node_error({.op = "Celu", .inputs = {random_tensor({3}, 1)}, .attributes = {{"alpha", 0.f}}},
                    ErrorCode::InvalidModel, "alpha must be nonzero");
  expect_node_error({.op = "LeakyRelu", .inputs = {random_tensor({3}, 1)}, .attributes = {{"alpha", int64_t{1}}}},
                    ErrorCode::InvalidModel, "attribute 'alpha' has kind int, expected float");
}

TEST(Clip, AttributesBeforeOpset11) {
  const Tensor x = Tensor::from_vector<float>({5}, {-3, -1, 0, 2, 5});
  const auto both = run_node({.op = "Clip", .inputs = {x}, .attributes = {{"min", -1.5f}, {"max", 1.5f}}, .opset = 6});
  expect_tensor_near(both[0], Tensor::from_vector<float>({5}, {-1.5f, -1, 0, 1.5f, 1.5f}));
  const auto min_only = run_node({.op = "Clip", .inputs = {x}, .attributes = {{"min", 0.f}}, .opset = 6});
  expect_tensor_near(min_only[0], Tensor::from_vector<float>({5}, {0, 0, 0, 2, 5}));
}

TEST(Clip, OptionalBoundInputs) {
  const Tensor x = random_tensor({3, 13, 1031}, 7, -2.f, 2.f);
  const auto out = run_node({.op = "Clip", .inputs = {x, Tensor(), Tensor::scalar(0.5f)}, .opset = 13});
  expect_tensor_near(out[0], map_reference(x, [](double v) { return std::min(v, 0.5); }), 0, 0);
  const auto unbounded = run_node({.op = "Clip", .inputs = {x}, .opset = 13});
  expect_tensor_near(unbounded[0], x, 0, 0);
}

TEST(Clip, IntegersAndInvertedBounds) {
  const Tensor x = Tensor::from_vector<int8_t>({5}, {-128, -3, 0, 4, 127});
  const auto out = run_node({.op = "Clip", .inputs = {x, Tensor::scalar<int8_t>(-2), Tensor::scalar<int8_t>(3)}});
  expect_tensor_near(out[0], Tensor::from_vector<int8_t>({5}, {-2, -2, 0, 3, 3}));
  // min > max: every element becomes max.
  const auto inverted = run_node({.op = "Clip", .inputs = {x, Tensor::scalar<int8_t>(5), Tensor::scalar<int8_t>(1)}});
  expect_tensor_near(inverted[0], Tensor::from_vector<int8_t>({5}, {1, 1, 1, 1, 1}));
}

TEST(Clip, RejectsBadBounds) {
  const Tensor x = random_tensor({4}, 3);
  expect_node_error({.op = "Clip", .inputs = {x, Tensor::from_vector<float>({2}, {0, 1})}}, ErrorCode::InvalidArgument,
                    "min must be a scalar, got shape [2]");
  expect_node_error({.op = "Clip", .inputs = {x, Tensor(), Tensor::scalar<double>(1)}}, ErrorCode::InvalidModel,
                    "max is float64 but the input is float32");
}

}  // namespace
}  // namespace kiln
