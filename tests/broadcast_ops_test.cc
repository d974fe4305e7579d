// Broadcasting elementwise ops beyond binary.cc's: Pow (mixed dtypes), PRelu (unidirectional),
// Where (three inputs), Mod and BitShift (attributes).
#include <cmath>
#include <limits>

#include "test_util.h"

namespace kiln {
namespace {

using namespace kiln::testing;

// Naive reference for two-input broadcasting where b's shape is a suffix of a's.
template <class T, class F>
Tensor suffix_broadcast_reference(const Tensor& a, const Tensor& b, F fn) {
  Tensor out(a.dtype(), a.shape());
  for (int64_t i = 0; i < a.numel(); ++i) out.data<T>()[i] = fn(a.data<T>()[i], b.data<T>()[i % b.numel()]);
  return out;
}

TEST(Pow, FloatBroadcastMatchesStdPow) {
  const Tensor base = random_tensor({3, 13}, 11, 0.1f, 3.f);
  const Tensor exponent = random_tensor({13}, 12, -2.f, 2.f);
  const auto out = run_node({.op = "Pow", .inputs = {base, exponent}});
  expect_tensor_near(out[0], suffix_broadcast_reference<float>(base, exponent, [](float b, float e) { return std::pow(b, e); }),
                     1e-6, 1e-5);
}

TEST(Pow, FloatBaseIntegerExponent) {
  const Tensor base = Tensor::from_vector<float>({4}, {-2, 3, 0.5f, -1.5f});
  const Tensor exponent = Tensor::from_vector<int64_t>({4}, {3, 2, -1, 0});
  expect_tensor_near(run_node({.op = "Pow", .inputs = {base, exponent}})[0],
                     Tensor::from_vector<float>({4}, {-8, 9, 2, 1}));
  const Tensor unsigned_exponent = Tensor::from_vector<uint32_t>({1}, {2});
  expect_tensor_near(run_node({.op = "Pow", .inputs = {base, unsigned_exponent}})[0],
                     Tensor::from_vector<float>({4}, {4, 9, 0.25f, 2.25f}));
}

TEST(Pow, IntegerPowerIsExact) {
  const Tensor base = Tensor::from_vector<int64_t>({4}, {3, -3, 7, 2});
  const Tensor exponent = Tensor::from_vector<int64_t>({4}, {39, 3, 0, 62});
  // Compared exactly: doubles cannot tell neighbouring int64 values this large apart.
  const Tensor out = run_node({.op = "Pow", .inputs = {base, exponent}})[0];
  const std::vector<int64_t> expected = {4052555153018976267, -27, 1, int64_t{1} << 62};
  EXPECT_EQ(std::vector<int64_t>(out.data<int64_t>(), out.data<int64_t>() + 4), expected);
  // Negative exponents: only 1 and -1 have integer results; everything else truncates to 0.
  const Tensor bases = Tensor::from_vector<int32_t>({4}, {1, -1, -1, 5});
  const Tensor negative = Tensor::from_vector<int32_t>({4}, {-3, -3, -2, -1});
  expect_tensor_near(run_node({.op = "Pow", .inputs = {bases, negative}})[0],
                     Tensor::from_vector<int32_t>({4}, {1, -1, 1, 0}));
}

TEST(Pow, IntegerBaseFloatExponentTruncatesAndSaturates) {
  const Tensor base = Tensor::from_vector<int32_t>({4}, {2, 10, -4, 9});
  const Tensor exponent = Tensor::from_vector<float>({4}, {0.5f, 12, 0.5f, 1.5f});
  // 2^0.5 truncates to 1, 10^12 saturates, (-4)^0.5 is NaN which converts to 0.
  expect_tensor_near(run_node({.op = "Pow", .inputs = {base, exponent}})[0],
                     Tensor::from_vector<int32_t>({4}, {1, std::numeric_limits<int32_t>::max(), 0, 27}));
}

TEST(Pow, LegacyAxisAlignsTheExponent) {
  const Tensor base = Tensor::from_vector<float>({2, 3, 2}, {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3});
  const Tensor exponent = Tensor::from_vector<float>({3}, {1, 2, 3});
  const auto out = run_node({.op = "Pow",
                             .inputs = {base, exponent},
                             .attributes = {{"broadcast", int64_t{1}}, {"axis", int64_t{1}}},
                             .opset = 6});
  expect_tensor_near(out[0], Tensor::from_vector<float>({2, 3, 2}, {1, 1, 4, 4, 27, 27, 1, 1, 4, 4, 27, 27}));
}

TEST(Pow, RejectsIncompatibleShapes) {
  expect_node_error({.op = "Pow", .inputs = {random_tensor({2, 3}, 1), random_tensor({2}, 2)}},
                    ErrorCode::InvalidArgument, "cannot be broadcast");
}

TEST(PRelu, SlopeBroadcastsOntoX) {
  const Tensor x = random_tensor({2, 3, 13}, 21);
  const Tensor slope = random_tensor({13}, 22, 0.f, 1.f);
  const auto out = run_node({.op = "PRelu", .inputs = {x, slope}});
  expect_tensor_near(out[0], suffix_broadcast_reference<float>(x, slope, [](float v, float s) { return v < 0 ? s * v : v; }));
}

TEST(PRelu, PerChannelSlopeBeforeOpset7) {
  const Tensor x = Tensor::from_vector<float>({1, 2, 2}, {-1, 2, -3, -4});
  const Tensor slope = Tensor::from_vector<float>({2}, {0.5f, 0.25f});
  const auto out = run_node({.op = "PRelu", .inputs = {x, slope}, .opset = 6});
  expect_tensor_near(out[0], Tensor::from_vector<float>({1, 2, 2}, {-0.5f, 2, -0.75f, -1}));
}

TEST(PRelu, IntegerInputs) {
  const Tensor x = Tensor::from_vector<int32_t>({4}, {-4, -1, 0, 6});
  const auto out = run_node({.op = "PRelu", .inputs = {x, Tensor::scalar<int32_t>(3)}});
  expect_tensor_near(out[0], Tensor::from_vector<int32_t>({4}, {-12, -3, 0, 6}));
}

TEST(PRelu, RejectsSlopeThatWouldGrowTheOutput) {
  expect_node_error({.op = "PRelu", .inputs = {random_tensor({3}, 1), random_tensor({2, 3}, 2)}},
                    ErrorCode::InvalidArgument, "slope of shape [2,3] does not broadcast onto X of shape [3]");
}

TEST(Where, BroadcastsAllThreeInputs) {
  const Tensor condition = Tensor::from_vector<bool>({2, 1}, {true, false});
  const Tensor x = Tensor::from_vector<float>({1, 3}, {1, 2, 3});
  const Tensor y = Tensor::scalar(-1.f);
  expect_tensor_near(run_node({.op = "Where", .inputs = {condition, x, y}})[0],
                     Tensor::from_vector<float>({2, 3}, {1, 2, 3, -1, -1, -1}));
}

TEST(Where, AnyElementSize) {
  const Tensor condition = Tensor::from_vector<bool>({3}, {false, true, false});
  const Tensor x64 = Tensor::from_vector<int64_t>({3}, {1, 2, 3});
  const Tensor y64 = Tensor::from_vector<int64_t>({3}, {-1, -2, int64_t{1} << 40});
  expect_tensor_near(run_node({.op = "Where", .inputs = {condition, x64, y64}})[0],
                     Tensor::from_vector<int64_t>({3}, {-1, 2, int64_t{1} << 40}));
  const Tensor xb = Tensor::from_vector<bool>({3}, {true, true, true});
  const Tensor yb = Tensor::from_vector<bool>({3}, {false, false, false});
  expect_tensor_near(run_node({.op = "Where", .inputs = {condition, xb, yb}})[0],
                     Tensor::from_vector<bool>({3}, {false, true, false}));
}

TEST(Where, RejectsNonBoolCondition) {
  const Tensor x = random_tensor({2}, 1);
  expect_node_error({.op = "Where", .inputs = {x, x, x}}, ErrorCode::InvalidModel, "condition must be bool, got float32");
}

TEST(Mod, IntegerSignConventions) {
  const Tensor a = Tensor::from_vector<int32_t>({4}, {7, -7, 7, -7});
  const Tensor b = Tensor::from_vector<int32_t>({4}, {3, 3, -3, -3});
  // fmod=0 takes the divisor's sign (numpy.mod); fmod=1 the dividend's (C %).
  expect_tensor_near(run_node({.op = "Mod", .inputs = {a, b}})[0], Tensor::from_vector<int32_t>({4}, {1, 2, -2, -1}));
  expect_tensor_near(run_node({.op = "Mod", .inputs = {a, b}, .attributes = {{"fmod", int64_t{1}}}})[0],
                     Tensor::from_vector<int32_t>({4}, {1, -1, 1, -1}));
}

TEST(Mod, MostNegativeByMinusOneIsZero) {
  const Tensor a = Tensor::from_vector<int64_t>({2}, {std::numeric_limits<int64_t>::min(), 5});
  expect_tensor_near(run_node({.op = "Mod", .inputs = {a, Tensor::scalar<int64_t>(-1)}})[0],
                     Tensor::from_vector<int64_t>({2}, {0, 0}));
}

TEST(Mod, FloatingPoint) {
  const Tensor a = Tensor::from_vector<float>({4}, {5.5f, -5.5f, 5.5f, -5.5f});
  const Tensor b = Tensor::from_vector<float>({4}, {2, 2, -2, -2});
  expect_tensor_near(run_node({.op = "Mod", .inputs = {a, b}, .attributes = {{"fmod", int64_t{1}}}})[0],
                     Tensor::from_vector<float>({4}, {1.5f, -1.5f, 1.5f, -1.5f}));
  expect_tensor_near(run_node({.op = "Mod", .inputs = {a, b}})[0], Tensor::from_vector<float>({4}, {1.5f, 0.5f, -0.5f, -1.5f}));
  const Tensor ha = Tensor::from_vector<Float16>({2}, {to_float16(5.5f), to_float16(-5.5f)});
  const Tensor hb = Tensor::from_vector<Float16>({1}, {to_float16(2.f)});
  expect_tensor_near(run_node({.op = "Mod", .inputs = {ha, hb}, .attributes = {{"fmod", int64_t{1}}}})[0],
                     Tensor::from_vector<Float16>({2}, {to_float16(1.5f), to_float16(-1.5f)}));
}

TEST(Mod, IntegerDivisionByZeroIsAnError) {
  expect_node_error({.op = "Mod", .inputs = {Tensor::scalar<int32_t>(3), Tensor::scalar<int32_t>(0)}},
                    ErrorCode::Runtime, "integer modulo by zero");
}

TEST(BitShift, BothDirectionsAndOversizedShifts) {
  const Tensor x = Tensor::from_vector<uint8_t>({4}, {1, 3, 255, 16});
  const Tensor shift = Tensor::from_vector<uint8_t>({4}, {1, 7, 8, 2});
  expect_tensor_near(run_node({.op = "BitShift", .inputs = {x, shift}, .attributes = {{"direction", std::string("LEFT")}}})[0],
                     Tensor::from_vector<uint8_t>({4}, {2, 128, 0, 64}));
  expect_tensor_near(run_node({.op = "BitShift", .inputs = {x, shift}, .attributes = {{"direction", std::string("RIGHT")}}})[0],
                     Tensor::from_vector<uint8_t>({4}, {0, 0, 0, 4}));
  const Tensor wide = Tensor::from_vector<uint64_t>({2}, {1, uint64_t{1} << 63});
  expect_tensor_near(run_node({.op = "BitShift",
                               .inputs = {wide, Tensor::scalar<uint64_t>(63)},
                               .attributes = {{"direction", std::string("RIGHT")}}})[0],
                     Tensor::from_vector<uint64_t>({2}, {0, 1}));
}

TEST(BitShift, RejectsUnknownDirection) {
  const Tensor x = Tensor::from_vector<uint32_t>({1}, {1});
  expect_node_error({.op = "BitShift", .inputs = {x, x}, .attributes = {{"direction", std::string("UP")}}},
                    ErrorCode::InvalidModel, "direction must be LEFT or RIGHT, got 'UP'");
}

}  // namespace
}  // namespace kiln
