#include <limits>

#include "test_util.h"

namespace kiln {
namespace {

using testing::run_node;

TEST(BinaryOps, AddBroadcastsAcrossRanks) {
  const Tensor a = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor b = Tensor::from_vector<float>({3}, {10, 20, 30});
  const auto out = run_node({.op = "Add", .inputs = {a, b}});
  testing::expect_tensor_near(out[0], Tensor::from_vector<float>({2, 3}, {11, 22, 33, 14, 25, 36}));
}

TEST(BinaryOps, BroadcastsBothWays) {
  const Tensor a = Tensor::from_vector<int64_t>({3, 1}, {1, 2, 3});
  const Tensor b = Tensor::from_vector<int64_t>({1, 2}, {10, 100});
  const auto out = run_node({.op = "Mul", .inputs = {a, b}});
  testing::expect_tensor_near(out[0], Tensor::from_vector<int64_t>({3, 2}, {10, 100, 20, 200, 30, 300}));
}

TEST(BinaryOps, ComparisonsProduceBool) {
  const Tensor a = Tensor::from_vector<float>({3}, {1, 5, 3});
  const Tensor b = Tensor::from_vector<float>({3}, {2, 5, 1});
  const auto out = run_node({.op = "Greater", .inputs = {a, b}});
  testing::expect_tensor_near(out[0], Tensor::from_vector<bool>({3}, {false, false, true}));
}

TEST(BinaryOps, VariadicMaxFoldsAllInputs) {
  const auto out = run_node({.op = "Max",
                             .inputs = {Tensor::from_vector<float>({2}, {1, 9}), Tensor::from_vector<float>({2}, {4, 2}),
                                        Tensor::from_vector<float>({1}, {3})}});
  testing::expect_tensor_near(out[0], Tensor::from_vector<float>({2}, {4, 9}));
}

TEST(BinaryOps, IncompatibleShapesNameTheNode) {
  const Tensor a = Tensor::from_vector<float>({2}, {1, 2});
  const Tensor b = Tensor::from_vector<float>({3}, {1, 2, 3});
  try {
    run_node({.op = "Sub", .inputs = {a, b}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Sub_under_test"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cannot be broadcast"), std::string::npos) << e.what();
  }
}

TEST(BinaryOps, IntegerDivisionByZeroIsAnError) {
  const Tensor a = Tensor::from_vector<int32_t>({1}, {4});
  const Tensor b = Tensor::from_vector<int32_t>({1}, {0});
  EXPECT_THROW(run_node({.op = "Div", .inputs = {a, b}}), Error);
}


TEST(BinaryOps, ScalarsCombineToAScalar) {
  const auto out = testing::run_node({.op = "Add", .inputs = {Tensor::scalar<float>(1.5f), Tensor::scalar<float>(2.f)}});
  testing::expect_tensor_near(out[0], Tensor::scalar<float>(3.5f));
}


TEST(BinaryOps, LegacyBroadcastAlignsBAtAxis) {
  // Opset 6: B of shape [3] lines up with A's axis 1, not with its trailing axis.
  const Tensor a = Tensor::from_vector<float>({2, 3, 2}, {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1});
  const Tensor b = Tensor::from_vector<float>({3}, {10, 20, 30});
  const auto out = testing::run_node(
      {.op = "Add", .inputs = {a, b}, .attributes = {{"broadcast", int64_t{1}}, {"axis", int64_t{1}}}, .opset = 6});
  testing::expect_tensor_near(out[0], Tensor::from_vector<float>({2, 3, 2}, {10, 10, 20, 20, 30, 30, 11, 11, 21, 21, 31, 31}));
}

TEST(BinaryOps, LegacyWithoutBroadcastNeedsEqualShapes) {
  const Tensor a = Tensor::from_vector<float>({2}, {1, 2});
  const Tensor b = Tensor::from_vector<float>({1}, {1});
  testing::expect_node_error({.op = "Mul", .inputs = {a, b}, .opset = 6}, ErrorCode::InvalidModel,
                             "broadcast attribute is not set");
}

TEST(BinaryOps, MeanAveragesAllInputs) {
  const auto out = testing::run_node({.op = "Mean",
                                      .inputs = {Tensor::from_vector<float>({2}, {1, 2}), Tensor::from_vector<float>({2}, {3, 4}),
                                                 Tensor::from_vector<float>({2}, {5, 9})}});
  testing::expect_tensor_near(out[0], Tensor::from_vector<float>({2}, {3, 5}));
}

TEST(BinaryOps, MostNegativeIntegerDividedByMinusOneDoesNotTrap) {
  const Tensor a = Tensor::from_vector<int32_t>({1}, {std::numeric_limits<int32_t>::min()});
  const Tensor b = Tensor::from_vector<int32_t>({1}, {-1});
  const auto out = testing::run_node({.op = "Div", .inputs = {a, b}});
  EXPECT_EQ(out[0].data<int32_t>()[0], std::numeric_limits<int32_t>::min());
}

}  // namespace
}  // namespace kiln
