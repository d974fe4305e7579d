#include "shape_test_util.h"

namespace kiln::testing {
namespace {

TEST(GatherOps, IndicesOfAnyRankReplaceTheAxis) {
  const Tensor data = random_tensor({3, 5, 7}, 29);
  const Tensor indices = Tensor::from_vector<int32_t>({2, 3}, {4, 0, -1, 2, 2, -5});
  const auto out = run_node({.op = "Gather", .inputs = {data, indices}, .attributes = {{"axis", int64_t{1}}}});
  ASSERT_EQ(out[0].shape(), (Shape{3, 2, 3, 7}));
  const Ints resolved = {4, 0, 4, 2, 2, 0};
  for (int64_t a = 0; a < 3; ++a)
    for (int64_t i = 0; i < 6; ++i)
      for (int64_t c = 0; c < 7; ++c)
        EXPECT_EQ(out[0].data<float>()[(a * 6 + i) * 7 + c],
                  data.data<float>()[(a * 5 + resolved[static_cast<size_t>(i)]) * 7 + c]);
}

TEST(GatherOps, ScalarIndexDropsTheAxis) {
  const auto out = run_node({.op = "Gather", .inputs = {iota_tensor<int64_t>({3, 2}), Tensor::scalar<int64_t>(2)}});
  expect_tensor_near(out[0], Tensor::from_vector<int64_t>({2}, {4, 5}));
}

TEST(GatherOps, RejectsOutOfRangeIndices) {
  expect_error_containing({.op = "Gather", .inputs = {iota_tensor<float>({3}), Tensor::from_vector<int64_t>({1}, {3})}},
                    "index 3 is out of range for an axis of size 3");
  expect_error_containing({.op = "Gather", .inputs = {iota_tensor<float>({3}), Tensor::from_vector<float>({1}, {0})}},
                    "indices must be int64 or int32");
}

TEST(GatherElementsOps, PicksAlongTheAxisPerElement) {
  const Tensor data = iota_tensor<float>({3, 4});
  const Tensor indices = Tensor::from_vector<int64_t>({2, 3}, {2, 0, -1, 1, 1, 0});
  const auto rows = run_node({.op = "GatherElements", .inputs = {data, indices}});
  // out[i][j] = data[indices[i][j]][j]
  expect_tensor_near(rows[0], Tensor::from_vector<float>({2, 3}, {8, 1, 10, 4, 5, 2}));
  const auto cols = run_node({.op = "GatherElements", .inputs = {data, indices}, .attributes = {{"axis", int64_t{1}}}});
  // out[i][j] = data[i][indices[i][j]]
  expect_tensor_near(cols[0], Tensor::from_vector<float>({2, 3}, {2, 0, 3, 5, 5, 4}));
}

TEST(GatherNDOps, TuplesSelectSlicesWithAndWithoutBatchDims) {
  const Tensor data = iota_tensor<int32_t>({2, 2, 2});
  const auto slices = run_node({.op = "GatherND", .inputs = {data, Tensor::from_vector<int64_t>({2, 1}, {1, 0})}});
  expect_tensor_near(slices[0], Tensor::from_vector<int32_t>({2, 2, 2}, {4, 5, 6, 7, 0, 1, 2, 3}));
  const auto batched = run_node({.op = "GatherND",
                                 .inputs = {data, Tensor::from_vector<int64_t>({2, 2}, {1, 0, 0, 1})},
                                 .attributes = {{"batch_dims", int64_t{1}}}});
  // Batch 0 reads data[0][1][0], batch 1 reads data[1][0][1].
  expect_tensor_near(batched[0], Tensor::from_vector<int32_t>({2}, {2, 5}));
  expect_error_containing({.op = "GatherND", .inputs = {data, Tensor::from_vector<int64_t>({1, 4}, {0, 0, 0, 0})}},
                    "do not index data of shape [2,2,2]");
}

TEST(ScatterElementsOps, ReductionsCombineDuplicateIndicesInOrder) {
  const Tensor data = Tensor::from_vector<float>({1, 5}, {1, 2, 3, 4, 5});
  const Tensor indices = Tensor::from_vector<int64_t>({1, 3}, {1, -4, 3});
  const Tensor updates = Tensor::from_vector<float>({1, 3}, {10, 20, 7});
  const std::vector<std::pair<std::string, std::vector<float>>> cases = {{"none", {1, 20, 3, 7, 5}},
                                                                         {"add", {1, 32, 3, 11, 5}},
                                                                         {"mul", {1, 400, 3, 28, 5}},
                                                                         {"max", {1, 20, 3, 7, 5}},
                                                                         {"min", {1, 2, 3, 4, 5}}};
  for (const auto& [reduction, expected] : cases) {
    const auto out = run_node({.op = "ScatterElements",
                               .inputs = {data, indices, updates},
                               .attributes = {{"axis", int64_t{1}}, {"reduction", reduction}},
                               .opset = 18});
    expect_tensor_near(out[0], Tensor::from_vector<float>({1, 5}, expected));
  }
}

TEST(ScatterElementsOps, OldScatterNameAlongAxis0) {
  const auto out =
      run_node({.op = "Scatter",
                .inputs = {Tensor::zeros(DType::Int64, {3, 2}), Tensor::from_vector<int64_t>({1, 2}, {2, 0}),
                           Tensor::from_vector<int64_t>({1, 2}, {8, 9})},
                .opset = 10});
  expect_tensor_near(out[0], Tensor::from_vector<int64_t>({3, 2}, {0, 9, 0, 0, 8, 0}));
}

TEST(ScatterElementsOps, RejectsUpdatesOfAnotherShape) {
  expect_error_containing(
      {.op = "ScatterElements",
       .inputs = {iota_tensor<float>({4}), Tensor::from_vector<int64_t>({2}, {0, 1}), iota_tensor<float>({3})}},
      "differ from indices");
}

TEST(ScatterNDOps, WritesSlicesAndMultipliesDuplicates) {
  const Tensor data = iota_tensor<float>({3, 2});
  const Tensor indices = Tensor::from_vector<int64_t>({3, 1}, {2, 0, 2});
  const Tensor updates = Tensor::from_vector<float>({3, 2}, {10, 10, 3, 3, 2, 2});
  const auto plain = run_node({.op = "ScatterND", .inputs = {data, indices, updates}});
  expect_tensor_near(plain[0], Tensor::from_vector<float>({3, 2}, {3, 3, 2, 3, 2, 2}));
  const auto product = run_node(
      {.op = "ScatterND", .inputs = {data, indices, updates}, .attributes = {{"reduction", std::string("mul")}}});
  expect_tensor_near(product[0], Tensor::from_vector<float>({3, 2}, {0, 3, 2, 3, 80, 100}));
  expect_error_containing({.op = "ScatterND", .inputs = {data, indices, iota_tensor<float>({3})}},
                    "updates must have shape [3,2]");
}

}  // namespace
}  // namespace kiln::testing
