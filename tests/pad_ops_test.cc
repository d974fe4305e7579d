#include "shape_test_util.h"

namespace kiln::testing {
namespace {

Tensor row(const std::vector<float>& values) {
  return Tensor::from_vector<float>({1, static_cast<int64_t>(values.size())}, values);
}

Tensor pad_row(const std::vector<float>& x, const std::string& mode, int64_t begin, int64_t end, int64_t opset = 13) {
  return run_node(
      {.op = "Pad", .inputs = {row(x), ints({0, begin, 0, end})}, .attributes = {{"mode", mode}}, .opset = opset})[0];
}

TEST(PadOps, ModesOnOneRow) {
  expect_tensor_near(pad_row({1, 2, 3}, "constant", 2, 1), row({0, 0, 1, 2, 3, 0}));
  expect_tensor_near(pad_row({1, 2, 3}, "edge", 2, 1), row({1, 1, 1, 2, 3, 3}));
  expect_tensor_near(pad_row({1, 2, 3}, "reflect", 2, 2), row({3, 2, 1, 2, 3, 2, 1}));
  expect_tensor_near(pad_row({1, 2, 3}, "wrap", 2, 4, 19), row({2, 3, 1, 2, 3, 1, 2, 3, 1}));
}

TEST(PadOps, ReflectWiderThanTheAxisKeepsMirroringLikeNumpy) {
  expect_tensor_near(pad_row({1, 2, 3}, "reflect", 4, 0), row({1, 2, 3, 2, 1, 2, 3}));
}

TEST(PadOps, NegativePadsCrop) { expect_tensor_near(pad_row({1, 2, 3, 4, 5}, "constant", -2, 1), row({3, 4, 5, 0})); }

TEST(PadOps, ConstantValueInputAndAxesInput) {
  const Tensor x = Tensor::from_vector<int32_t>({2, 2}, {1, 2, 3, 4});
  const auto out =
      run_node({.op = "Pad", .inputs = {x, ints({1, 0}), Tensor::scalar<int32_t>(9), ints({-2})}, .opset = 18});
  expect_tensor_near(out[0], Tensor::from_vector<int32_t>({3, 2}, {9, 9, 1, 2, 3, 4}));
}

TEST(PadOps, AttributesBeforeOpset11ConvertTheValue) {
  const Tensor x = Tensor::from_vector<int64_t>({1, 1, 1}, {5});
  const auto out = run_node(
      {.op = "Pad", .inputs = {x}, .attributes = {{"pads", Ints{0, 0, 1, 0, 0, 1}}, {"value", 7.f}}, .opset = 2});
  expect_tensor_near(out[0], Tensor::from_vector<int64_t>({1, 1, 3}, {7, 5, 7}));
}

TEST(PadOps, EdgeOn3dMatchesNaive) {
  const Tensor x = random_tensor({3, 5, 13}, 19);
  const Ints pads = {1, 0, 2, 0, 3, 1};  // begins 1, 0, 2; ends 0, 3, 1
  const auto out = run_node({.op = "Pad", .inputs = {x, ints(pads)}, .attributes = {{"mode", std::string("edge")}}});
  ASSERT_EQ(out[0].shape(), (Shape{4, 8, 16}));
  auto clamp = [](int64_t i, int64_t dim) { return std::clamp<int64_t>(i, 0, dim - 1); };
  for (int64_t a = 0; a < 4; ++a)
    for (int64_t b = 0; b < 8; ++b)
      for (int64_t c = 0; c < 16; ++c)
        ASSERT_EQ(out[0].data<float>()[(a * 8 + b) * 16 + c],
                  x.data<float>()[(clamp(a - 1, 3) * 5 + clamp(b, 5)) * 13 + clamp(c - 2, 13)]);
}

TEST(PadOps, RejectsBadPads) {
  expect_error_containing({.op = "Pad", .inputs = {row({1, 2}), ints({1, 1})}}, "must hold a begin and an end");
  expect_error_containing({.op = "Pad", .inputs = {row({1, 2}), ints({0, -3, 0, 0})}}, "below zero");
  expect_error_containing(
      {.op = "Pad", .inputs = {row({1}), ints({0, 1, 0, 0})}, .attributes = {{"mode", std::string("mirror")}}},
      "unknown pad mode 'mirror'");
}

}  // namespace
}  // namespace kiln::testing
