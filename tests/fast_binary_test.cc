// The vectorized float arithmetic (VecIsa::binary through Add, Sub, Mul, Div, Sum, Mean and Pow by
// 2) against the reference at every CPU level: same shapes, scalar operands, per-channel and
// row-vector broadcasts in both operand orders, bidirectional broadcasts and runs too short for
// the vector path. IEEE arithmetic is exact, so results must be bit-identical.
#include <limits>

#include "kernels/cpu/broadcast_runs.h"
#include "level_sweep.h"

namespace kiln {
namespace {

using namespace kiln::testing;

class FastBinary : public LevelSweep {};

// Values away from 0 so that Div stays finite, plus a NaN and an infinity.
Tensor operand(const Shape& shape, uint32_t seed) {
  Tensor t = random_tensor(shape, seed, 0.5f, 2.f);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); i += 2) p[i] = -p[i];
  if (t.numel() > 20) {
    p[7] = std::numeric_limits<float>::quiet_NaN();
    p[11] = std::numeric_limits<float>::infinity();
  }
  return t;
}

TEST_P(FastBinary, ArithmeticMatchesReferenceForEveryBroadcastForm) {
  const std::pair<Shape, Shape> shapes[] = {
      {{1}, {1}},                       // one element
      {{13}, {13}},                     // same shape, shorter than a run worth vectorizing
      {{1031}, {1031}},                 // same shape
      {{3, 13, 1031}, {3, 13, 1031}},   // same shape over several parallel pieces
      {{}, {13, 127}},                  // scalar first
      {{13, 127}, {1}},                 // scalar second
      {{2, 13, 7, 9}, {1, 13, 1, 1}},   // per channel
      {{13, 1, 1}, {2, 13, 7, 9}},      // per channel, first
      {{1, 64, 1, 1}, {1, 64, 56, 56}}, // per channel, several parallel chunks
      {{13, 127}, {127}},               // row vector
      {{1000}, {3, 1000}},              // row vector, first
      {{13, 1}, {13, 127}},             // column vector
      {{13, 1}, {1, 127}},              // both broadcast
      {{1000, 3}, {1000, 1}},           // runs too short: the reference path
      {{2, 1, 3, 1}, {1, 5, 1, 7}},     // alternating broadcast dims
      {{0, 13}, {13}},                  // empty
  };
  uint32_t seed = 1;
  for (const char* op : {"Add", "Sub", "Mul", "Div"})
    for (const auto& [a, b] : shapes)
      expect_matches_reference({.op = op, .inputs = {operand(a, seed++), operand(b, seed++)}, .opset = 14}, 0, 0);
}

// Squaring is exact in double, so x * x must give pow's bits: signs, NaN, infinity, and exponents
// of every dtype and of a rank above the base's. Other exponents keep the reference path.
TEST_P(FastBinary, PowByTwoMatchesReference) {
  for (const Shape& shape : {Shape{1}, Shape{13}, Shape{3, 13, 1031}, Shape{0, 4}}) {
    const Tensor base = operand(shape, 21);
    for (const Tensor& exponent : {Tensor::from_vector<float>({}, {2.f}), Tensor::from_vector<int64_t>({1, 1}, {2}),
                                   Tensor::from_vector<double>({1}, {2.0}), Tensor::from_vector<float>({1}, {3.f})})
      expect_matches_reference({.op = "Pow", .inputs = {base, exponent}, .opset = 15}, 0, 0);
  }
}

TEST_P(FastBinary, VariadicSumAndMeanMatchReference) {
  const Tensor a = operand({3, 13, 127}, 5), b = operand({127}, 6), c = operand({13, 1}, 7);
  for (const char* op : {"Sum", "Mean"}) expect_matches_reference({.op = op, .inputs = {a, b, c}, .opset = 13}, 0, 0);
}

TEST_P(FastBinary, LegacyAxisBroadcastMatchesReference) {
  const Tensor a = operand({2, 13, 7, 9}, 8), b = operand({13}, 9);
  expect_matches_reference({.op = "Add",
                            .inputs = {a, b},
                            .attributes = {{"broadcast", int64_t{1}}, {"axis", int64_t{1}}},
                            .opset = 6},
                           0, 0);
}

// The run decomposition that picks the vector path.
TEST(BroadcastRuns, MergesDimsIntoRuns) {
  const kernels::BroadcastRuns channel = kernels::broadcast_runs({2, 13, 7, 9}, {1, 13, 1, 1}, {2, 13, 7, 9});
  EXPECT_EQ(channel.run, 63);
  EXPECT_EQ(channel.a_form, kernels::Operand::Vector);
  EXPECT_EQ(channel.b_form, kernels::Operand::Scalar);
  EXPECT_EQ(channel.dims, (std::vector<int64_t>{2, 13}));
  EXPECT_EQ(channel.b_strides, (std::vector<int64_t>{0, 1}));

  const kernels::BroadcastRuns row = kernels::broadcast_runs({127}, {5, 13, 127}, {5, 13, 127});
  EXPECT_EQ(row.run, 127);
  EXPECT_EQ(row.rows(), 65);
  EXPECT_EQ(row.a_strides, (std::vector<int64_t>{0}));

  const kernels::BroadcastRuns same = kernels::broadcast_runs({1, 3, 5}, {3, 1, 5}, {3, 3, 5});
  EXPECT_EQ(same.run, 5);
  EXPECT_EQ(same.dims, (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(same.a_strides, (std::vector<int64_t>{0, 5}));
  EXPECT_EQ(same.b_strides, (std::vector<int64_t>{5, 0}));

  const kernels::BroadcastRuns flat = kernels::broadcast_runs({4, 1, 6}, {4, 1, 6}, {4, 1, 6});
  EXPECT_EQ(flat.run, 24);
  EXPECT_TRUE(flat.dims.empty());
}

KILN_INSTANTIATE_LEVEL_SWEEP(FastBinary);

}  // namespace
}  // namespace kiln
