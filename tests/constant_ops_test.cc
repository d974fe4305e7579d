// Ops that pass inputs through (Identity, Dropout) or make tensors from attributes (Constant,
// ConstantOfShape, EyeLike).
#include "test_util.h"

namespace kiln {
namespace {

using namespace kiln::testing;

TEST(Identity, PassesAnyDtypeThrough) {
  const Tensor x = random_tensor({3, 13}, 4);
  expect_tensor_near(run_node({.op = "Identity", .inputs = {x}})[0], x, 0, 0);
  const Tensor b = Tensor::from_vector<bool>({2}, {true, false});
  expect_tensor_near(run_node({.op = "Identity", .inputs = {b}})[0], b, 0, 0);
}

TEST(Dropout, InferencePassesThroughWithAllTrueMask) {
  const Tensor x = random_tensor({2, 7}, 5);
  const auto out = run_node({.op = "Dropout", .inputs = {x}, .attributes = {{"ratio", 0.3f}}, .opset = 11, .outputs = 2});
  expect_tensor_near(out[0], x, 0, 0);
  expect_tensor_near(out[1], Tensor::from_vector<bool>({2, 7}, std::vector<bool>(14, true)));
}

TEST(Dropout, MaskHasTheInputDtypeBeforeOpset10) {
  const Tensor x = random_tensor({3}, 6);
  const auto out = run_node({.op = "Dropout", .inputs = {x}, .opset = 7, .outputs = 2});
  expect_tensor_near(out[1], Tensor::from_vector<float>({3}, {1, 1, 1}));
}

TEST(Dropout, TrainingModeNeedsZeroRatio) {
  const Tensor x = random_tensor({3}, 7);
  const auto out = run_node({.op = "Dropout", .inputs = {x, Tensor::scalar(0.f), Tensor::scalar(true)}, .outputs = 2});
  expect_tensor_near(out[0], x, 0, 0);
  expect_tensor_near(run_node({.op = "Dropout", .inputs = {x, Tensor(), Tensor::scalar(false)}})[0], x, 0, 0);
  expect_node_error({.op = "Dropout", .inputs = {x, Tensor::scalar(0.5f), Tensor::scalar(true)}},
                    ErrorCode::NotImplemented, "training mode with a nonzero ratio is not supported");
  expect_node_error({.op = "Dropout", .inputs = {x, Tensor(), Tensor::scalar(true)}}, ErrorCode::NotImplemented,
                    "training mode");
}

TEST(Constant, EveryNumericValueAttribute) {
  const Tensor value = Tensor::from_vector<int32_t>({2, 2}, {1, 2, 3, 4});
  expect_tensor_near(run_node({.op = "Constant", .attributes = {{"value", value}}})[0], value, 0, 0);
  expect_tensor_near(run_node({.op = "Constant", .attributes = {{"value_float", 2.5f}}})[0], Tensor::scalar(2.5f));
  expect_tensor_near(run_node({.op = "Constant", .attributes = {{"value_int", int64_t{-3}}}})[0],
                     Tensor::scalar<int64_t>(-3));
  expect_tensor_near(run_node({.op = "Constant", .attributes = {{"value_floats", std::vector<float>{1, 2, 3}}}})[0],
                     Tensor::from_vector<float>({3}, {1, 2, 3}));
  expect_tensor_near(run_node({.op = "Constant", .attributes = {{"value_ints", std::vector<int64_t>{4, 5}}}})[0],
                     Tensor::from_vector<int64_t>({2}, {4, 5}));
}

TEST(Constant, RejectsMissingExtraAndStringValues) {
  expect_node_error({.op = "Constant"}, ErrorCode::InvalidModel, "exactly one value attribute must be set, got 0");
  expect_node_error({.op = "Constant", .attributes = {{"value_float", 1.f}, {"value_int", int64_t{1}}}},
                    ErrorCode::InvalidModel, "exactly one value attribute must be set, got 2");
  expect_node_error({.op = "Constant", .attributes = {{"value_string", std::string("hi")}}}, ErrorCode::NotImplemented,
                    "string and sparse constants are not supported");
}

TEST(ConstantOfShape, DefaultsToFloatZero) {
  const auto out = run_node({.op = "ConstantOfShape", .inputs = {Tensor::from_vector<int64_t>({2}, {2, 3})}});
  expect_tensor_near(out[0], Tensor::zeros(DType::Float32, {2, 3}), 0, 0);
}

TEST(ConstantOfShape, RepeatsTheValueOfAnyDtype) {
  const auto out = run_node({.op = "ConstantOfShape",
                             .inputs = {Tensor::from_vector<int64_t>({3}, {1, 13, 3})},
                             .attributes = {{"value", Tensor::from_vector<int64_t>({1}, {int64_t{1} << 40})}}});
  expect_tensor_near(out[0], Tensor::from_vector<int64_t>({1, 13, 3}, std::vector<int64_t>(39, int64_t{1} << 40)), 0, 0);
  const auto half = run_node({.op = "ConstantOfShape",
                              .inputs = {Tensor::from_vector<int64_t>({1}, {5})},
                              .attributes = {{"value", Tensor::from_vector<Float16>({1}, {to_float16(1.5f)})}}});
  expect_tensor_near(half[0], Tensor::from_vector<Float16>({5}, std::vector<Float16>(5, to_float16(1.5f))), 0, 0);
}

TEST(ConstantOfShape, EmptyShapesGiveScalarsOrEmptyTensors) {
  const auto scalar = run_node({.op = "ConstantOfShape",
                                .inputs = {Tensor::from_vector<int64_t>({0}, {})},
                                .attributes = {{"value", Tensor::from_vector<int32_t>({1}, {7})}}});
  expect_tensor_near(scalar[0], Tensor::scalar<int32_t>(7), 0, 0);
  const auto empty = run_node({.op = "ConstantOfShape", .inputs = {Tensor::from_vector<int64_t>({2}, {4, 0})}});
  expect_tensor_near(empty[0], Tensor::zeros(DType::Float32, {4, 0}), 0, 0);
}

TEST(ConstantOfShape, RejectsBadShapesAndValues) {
  expect_node_error({.op = "ConstantOfShape", .inputs = {Tensor::from_vector<int64_t>({2}, {2, -1})}},
                    ErrorCode::InvalidArgument, "negative");
  expect_node_error({.op = "ConstantOfShape", .inputs = {Tensor::from_vector<int32_t>({1}, {2})}},
                    ErrorCode::InvalidModel, "input must be a 1-D int64 shape, got int32 [1]");
  expect_node_error({.op = "ConstantOfShape",
                     .inputs = {Tensor::from_vector<int64_t>({1}, {2})},
                     .attributes = {{"value", Tensor::from_vector<float>({2}, {1, 2})}}},
                    ErrorCode::InvalidModel, "attribute 'value' must hold one element, got shape [2]");
}

TEST(EyeLike, DiagonalsAboveAndBelow) {
  const Tensor x = Tensor::zeros(DType::Float32, {3, 5});
  const auto above = run_node({.op = "EyeLike", .inputs = {x}, .attributes = {{"k", int64_t{1}}}});
  expect_tensor_near(above[0], Tensor::from_vector<float>({3, 5}, {0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0}), 0, 0);
  const auto below = run_node({.op = "EyeLike",
                               .inputs = {x},
                               .attributes = {{"k", int64_t{-2}}, {"dtype", static_cast<int64_t>(DType::Int32)}}});
  expect_tensor_near(below[0], Tensor::from_vector<int32_t>({3, 5}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}));
  const auto outside = run_node({.op = "EyeLike", .inputs = {x}, .attributes = {{"k", std::numeric_limits<int64_t>::min()}}});
  expect_tensor_near(outside[0], x, 0, 0);
}

TEST(EyeLike, RejectsNon2DInput) {
  expect_node_error({.op = "EyeLike", .inputs = {random_tensor({2, 2, 2}, 1)}}, ErrorCode::InvalidArgument,
                    "input must be 2-D, got shape [2,2,2]");
}

}  // namespace
}  // namespace kiln
