// The vectorized 2-D max and average pooling and global average pooling (VecIsa::pool_2d,
// VecIsa::sum) against the reference at every CPU level. The 2-D kernels visit each window's taps
// in the reference's order, so their results must be bit-identical, NaN and infinities included.
#include <limits>

#include "level_sweep.h"

namespace kiln {
namespace {

using namespace kiln::testing;
using Ints = std::vector<int64_t>;

class FastPool : public LevelSweep {};

// Random values with a NaN and infinities in the first plane.
Tensor pool_input(const Shape& shape, uint32_t seed) {
  Tensor x = random_tensor(shape, seed, -2.f, 2.f);
  if (x.numel() > 40) {
    x.data<float>()[3] = std::numeric_limits<float>::quiet_NaN();
    x.data<float>()[17] = std::numeric_limits<float>::infinity();
    x.data<float>()[29] = -std::numeric_limits<float>::infinity();
  }
  return x;
}

struct Window {
  Shape x;
  std::map<std::string, ir::Attribute> attributes;
};

TEST_P(FastPool, MaxAndAveragePool2dMatchReference) {
  const Window windows[] = {
      {{1, 3, 13, 13}, {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}}},
      {{1, 64, 112, 112}, {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}}},
      {{2, 5, 13, 13}, {{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}}},
      {{2, 5, 13, 13}, {{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}, {"ceil_mode", int64_t{1}}}},
      {{1, 4, 127, 3}, {{"kernel_shape", Ints{3, 3}}, {"pads", Ints{1, 1, 1, 1}}}},
      {{2, 3, 17, 19}, {{"kernel_shape", Ints{3, 2}}, {"strides", Ints{1, 3}}, {"dilations", Ints{2, 2}}}},
      {{1, 2, 9, 11}, {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 1}}, {"pads", Ints{0, 2, 2, 1}}}},
      {{1, 2, 9, 11}, {{"kernel_shape", Ints{4, 4}}, {"auto_pad", std::string("SAME_UPPER")}, {"strides", Ints{3, 3}}}},
      {{1, 1, 3, 3}, {{"kernel_shape", Ints{5, 5}}, {"pads", Ints{2, 2, 2, 2}}}},
      {{1, 1, 1, 1}, {{"kernel_shape", Ints{1, 1}}}},
      {{1, 2, 7, 7}, {{"kernel_shape", Ints{7, 7}}}},
      // Dilated windows that fall entirely into the padding at the borders.
      {{1, 1, 4, 4}, {{"kernel_shape", Ints{2, 2}}, {"dilations", Ints{3, 3}}, {"pads", Ints{3, 3, 3, 3}}}},
  };
  uint32_t seed = 1;
  for (const Window& w : windows) {
    const Tensor x = pool_input(w.x, seed++);
    expect_matches_reference({.op = "MaxPool", .inputs = {x}, .attributes = w.attributes, .opset = 12}, 0, 0);
    for (int64_t include_pad : {0, 1}) {
      auto attributes = w.attributes;
      attributes.erase("dilations");  // AveragePool has dilations only from opset 19
      attributes["count_include_pad"] = include_pad;
      expect_matches_reference({.op = "AveragePool", .inputs = {x}, .attributes = attributes, .opset = 11}, 0, 0);
    }
  }
}

TEST_P(FastPool, MaxPoolWithIndicesKeepsTheReferencePath) {
  const Tensor x = pool_input({1, 3, 13, 13}, 40);
  expect_matches_reference({.op = "MaxPool",
                            .inputs = {x},
                            .attributes = {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}},
                            .opset = 12,
                            .outputs = 2},
                           0, 0);
}

TEST_P(FastPool, GlobalAveragePoolMatchesReference) {
  const Shape shapes[] = {{1, 1, 1, 1}, {2, 13, 7, 7}, {1, 2048, 7, 7}, {1, 3, 127}, {1, 2, 3, 4, 5}, {1, 64, 56, 56}};
  uint32_t seed = 50;
  // The sum runs in vector lanes, so its rounding differs from the sequential reference.
  for (const Shape& shape : shapes)
    expect_matches_reference({.op = "GlobalAveragePool", .inputs = {random_tensor(shape, seed++)}}, 1e-6, 1e-6);
}

KILN_INSTANTIATE_LEVEL_SWEEP(FastPool);

}  // namespace
}  // namespace kiln
