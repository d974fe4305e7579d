#include <cmath>
#include <limits>

#include "test_util.h"

namespace kiln {
namespace {

using namespace kiln::testing;

std::vector<Tensor> cast(const Tensor& x, DType to) {
  return run_node({.op = "Cast", .inputs = {x}, .attributes = {{"to", static_cast<int64_t>(to)}}});
}

TEST(Cast, FloatToIntegerTruncatesSaturatesAndMapsNaNToZero) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = Tensor::from_vector<float>({6}, {2.9f, -2.9f, 1e10f, -1e10f, nan, 0.5f});
  expect_tensor_near(cast(x, DType::Int32)[0],
                     Tensor::from_vector<int32_t>({6}, {2, -2, std::numeric_limits<int32_t>::max(),
                                                        std::numeric_limits<int32_t>::min(), 0, 0}));
  expect_tensor_near(cast(x, DType::UInt8)[0], Tensor::from_vector<uint8_t>({6}, {2, 0, 255, 0, 0, 0}));
}

TEST(Cast, IntegerNarrowingWraps) {
  const Tensor x = Tensor::from_vector<int32_t>({3}, {200, -1, 65537});
  expect_tensor_near(cast(x, DType::Int8)[0], Tensor::from_vector<int8_t>({3}, {-56, -1, 1}));
  expect_tensor_near(cast(x, DType::UInt16)[0], Tensor::from_vector<uint16_t>({3}, {200, 65535, 1}));
}

TEST(Cast, BoolBothWays) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = Tensor::from_vector<float>({4}, {0.f, -0.f, 0.1f, nan});
  expect_tensor_near(cast(x, DType::Bool)[0], Tensor::from_vector<bool>({4}, {false, false, true, true}));
  const Tensor b = Tensor::from_vector<bool>({2}, {true, false});
  expect_tensor_near(cast(b, DType::Int64)[0], Tensor::from_vector<int64_t>({2}, {1, 0}));
  expect_tensor_near(cast(b, DType::Float64)[0], Tensor::from_vector<double>({2}, {1, 0}));
}

TEST(Cast, HalfTypesRoundToNearestEven) {
  // 1 + 2^-11 lies halfway between two float16 values and rounds to the even one, 1.
  // 65520 lies halfway between the largest float16, 65504, and the next step, which is infinity.
  const Tensor x = Tensor::from_vector<float>({3}, {1.f + 0x1p-11f, 65520.f, -2.5f});
  const Tensor back = cast(cast(x, DType::Float16)[0], DType::Float32)[0];
  EXPECT_EQ(back.data<float>()[0], 1.f);
  EXPECT_EQ(back.data<float>()[1], std::numeric_limits<float>::infinity());
  EXPECT_EQ(back.data<float>()[2], -2.5f);
  // 1 + 2^-8 + 2^-9 rounds up to 1 + 2^-7 in bfloat16.
  const Tensor y = Tensor::from_vector<float>({2}, {1.f + 0x1p-8f + 0x1p-9f, -3.f});
  const auto bf = cast(y, DType::BFloat16)[0];
  EXPECT_EQ(bf.dtype(), DType::BFloat16);
  expect_tensor_near(cast(bf, DType::Float64)[0], Tensor::from_vector<double>({2}, {1.0 + 0x1p-7, -3.0}), 0, 0);
}

TEST(Cast, FloatToDoubleAndBackIsLossless) {
  const Tensor x = random_tensor({3, 13, 1031}, 5, -1e6f, 1e6f);
  expect_tensor_near(cast(cast(x, DType::Float64)[0], DType::Float32)[0], x, 0, 0);
}

TEST(Cast, SameDtypeKeepsValues) {
  const Tensor x = Tensor::from_vector<int64_t>({2}, {-5, 7});
  expect_tensor_near(cast(x, DType::Int64)[0], x, 0, 0);
}

TEST(Cast, RejectsStringAndUnknownTargets) {
  const Tensor x = random_tensor({2}, 1);
  expect_node_error({.op = "Cast", .inputs = {x}, .attributes = {{"to", int64_t{8}}}}, ErrorCode::NotImplemented,
                    "string tensors are not supported");
  expect_node_error({.op = "Cast", .inputs = {x}, .attributes = {{"to", int64_t{99}}}}, ErrorCode::InvalidModel,
                    "attribute 'to' is not a known dtype: 99");
  expect_node_error({.op = "Cast", .inputs = {x}}, ErrorCode::InvalidModel, "missing required attribute 'to'");
}

TEST(CastLike, TakesTheDtypeOfTheSecondInput) {
  const Tensor x = Tensor::from_vector<double>({3}, {1.75, -1.75, 300.0});
  const auto out = run_node({.op = "CastLike", .inputs = {x, Tensor::from_vector<uint8_t>({1}, {0})}});
  expect_tensor_near(out[0], Tensor::from_vector<uint8_t>({3}, {1, 0, 255}));
}

}  // namespace
}  // namespace kiln
