#include "shape_test_util.h"

namespace kiln::testing {
namespace {

TEST(ExpandOps, BroadcastsBothWays) {
  // A 1 in the target keeps the input's dim (3); the input's 1 takes the target's 4.
  const auto out = run_node({.op = "Expand", .inputs = {iota_tensor<int64_t>({3, 1}), ints({2, 1, 4})}});
  ASSERT_EQ(out[0].shape(), (Shape{2, 3, 4}));
  for (int64_t i = 0; i < out[0].numel(); ++i) EXPECT_EQ(out[0].data<int64_t>()[i], (i / 4) % 3) << i;
}

TEST(ExpandOps, RejectsIncompatibleShapes) {
  expect_error_containing({.op = "Expand", .inputs = {iota_tensor<float>({3}), ints({2})}}, "cannot be broadcast");
}

TEST(TileOps, RepeatsEachAxisLikeANaiveLoop) {
  const Tensor x = random_tensor({3, 1, 5}, 23);
  const auto out = run_node({.op = "Tile", .inputs = {x, ints({2, 3, 1})}});
  ASSERT_EQ(out[0].shape(), (Shape{6, 3, 5}));
  for (int64_t a = 0; a < 6; ++a)
    for (int64_t b = 0; b < 3; ++b)
      for (int64_t c = 0; c < 5; ++c)
        EXPECT_EQ(out[0].data<float>()[(a * 3 + b) * 5 + c], x.data<float>()[(a % 3) * 5 + c]);
}

TEST(TileOps, ZeroRepeatsGiveAnEmptyAxis) {
  const auto out = run_node({.op = "Tile", .inputs = {iota_tensor<bool>({2, 2}), ints({0, 2})}});
  EXPECT_EQ(out[0].shape(), (Shape{0, 4}));
}

TEST(TileOps, RejectsBadRepeatsAndOversizedOutputs) {
  const Tensor x = iota_tensor<float>({3});
  expect_error_containing({.op = "Tile", .inputs = {iota_tensor<float>({2, 2}), ints({2})}}, "one entry per axis");
  expect_error_containing({.op = "Tile", .inputs = {x, ints({INT64_MAX / 2})}}, "dimension overflows int64");
  expect_error_containing({.op = "Tile", .inputs = {x, ints({int64_t{1} << 40})}}, "GiB limit");
  expect_error_containing({.op = "Expand", .inputs = {iota_tensor<float>({1}), ints({-2})}}, "negative dim");
}

}  // namespace
}  // namespace kiln::testing
