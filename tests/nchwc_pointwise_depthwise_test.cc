// kiln.NchwcPointwiseDepthwise against the two kiln.NchwcConv it fuses (a 1x1 convolution, then a
// depthwise one on its result), at every CPU level with 1 and 3 threads: strides, dilations,
// asymmetric pads, channel counts that leave padded lanes, both activations, absent biases.
#include <gtest/gtest.h>

#include "kernels/cpu/nchwc.h"
#include "level_sweep.h"
#include "test_util.h"

namespace kiln {
namespace {

using Ints = std::vector<int64_t>;
using testing::random_tensor;
using testing::run_node;

struct FusedCase {
  const char* name;
  int64_t batch, channels, expanded, height, width, kernel, stride;
  Ints pads;
  int64_t dilation;
  const char* pointwise_activation;
  const char* activation;
  bool biases;
};

const FusedCase kCases[] = {
    {"MobileNetV2 stride 2", 1, 16, 96, 23, 21, 3, 2, {1, 1, 1, 1}, 1, "Clip", "Clip", true},
    {"MobileNetV2 stride 1", 2, 24, 144, 14, 15, 3, 1, {1, 1, 1, 1}, 1, "Clip", "Clip", true},
    {"odd channels 5x5", 1, 13, 40, 7, 9, 5, 1, {2, 2, 2, 2}, 1, "Relu", "HardSwish", true},
    {"dilated", 1, 8, 24, 11, 12, 3, 1, {2, 2, 2, 2}, 2, "", "Relu", false},
    {"asymmetric pads stride 2", 1, 17, 33, 10, 13, 3, 2, {0, 1, 1, 0}, 1, "HardSwish", "", true},
    {"one row", 1, 16, 32, 1, 30, 3, 1, {1, 1, 1, 1}, 1, "Clip", "Clip", true},
    // Expanded tensors above 2 MB stream their rows through a ring; the cases above run whole.
    {"streamed stride 2", 1, 16, 96, 80, 75, 3, 2, {1, 1, 1, 1}, 1, "Clip", "Clip", true},
    {"streamed odd channels", 1, 13, 200, 60, 48, 5, 1, {2, 1, 2, 1}, 1, "Relu", "HardSwish", true},
    {"streamed dilated", 2, 24, 144, 62, 61, 3, 1, {2, 2, 2, 2}, 2, "", "Relu", false},
};

std::map<std::string, ir::Attribute> activation(const char* prefix, const char* name) {
  if (!*name) return {};
  std::map<std::string, ir::Attribute> a{{std::string(prefix) + "activation", std::string(name)}};
  if (std::string(name) == "Clip") a[std::string(prefix) + "activation_params"] = std::vector<float>{0.f, 6.f};
  return a;
}

class NchwcPointwiseDepthwiseTest : public testing::LevelSweep {};

TEST_P(NchwcPointwiseDepthwiseTest, MatchesTheTwoConvolutions) {
  const int64_t block = kernels::nchwc_block(GetParam());
  const std::string level = cpu_level_name(GetParam());
  for (const FusedCase& c : kCases) {
    const Tensor x = random_tensor({c.batch, kernels::nchwc_blocks(c.channels, block), c.height, c.width, block}, 1);
    const Tensor w1 = random_tensor({c.expanded, c.channels, 1, 1}, 2, -0.5f, 0.5f);
    const Tensor w2 = random_tensor({c.expanded, 1, c.kernel, c.kernel}, 3);
    const Tensor b1 = c.biases ? random_tensor({c.expanded}, 4) : Tensor();
    const Tensor b2 = c.biases ? random_tensor({c.expanded}, 5) : Tensor();
    const std::map<std::string, ir::Attribute> window{{"strides", Ints{c.stride, c.stride}},
                                                      {"pads", c.pads},
                                                      {"dilations", Ints{c.dilation, c.dilation}},
                                                      {"group", c.expanded},
                                                      {"block", block}};
    auto pointwise_attributes = activation("", c.pointwise_activation);
    pointwise_attributes["block"] = block;
    const Tensor expanded = run_node({.op = "NchwcConv", .inputs = {x, w1, b1}, .attributes = pointwise_attributes,
                                      .domain = "kiln", .constant_inputs = {1, 2}, .cpu_level = level})[0];
    auto depthwise_attributes = activation("", c.activation);
    depthwise_attributes.insert(window.begin(), window.end());
    const Tensor expected = run_node({.op = "NchwcConv", .inputs = {expanded, w2, b2}, .attributes = depthwise_attributes,
                                      .domain = "kiln", .constant_inputs = {1, 2}, .cpu_level = level})[0];
    auto fused_attributes = activation("pointwise_", c.pointwise_activation);
    for (const auto& [k, v] : depthwise_attributes) fused_attributes[k] = v;
    for (int threads : {1, 3}) {
      SCOPED_TRACE(::testing::Message() << c.name << " at " << level << ", " << threads << " threads");
      const Tensor actual = run_node({.op = "NchwcPointwiseDepthwise", .inputs = {x, w1, b1, w2, b2},
                                      .attributes = fused_attributes, .domain = "kiln", .constant_inputs = {1, 2, 3, 4},
                                      .cpu_level = level, .threads = threads})[0];
      // Lanes past the real channels are unspecified in both; only real channels are compared.
      ASSERT_EQ(actual.shape(), expected.shape());
      for (int64_t i = 0; i < actual.numel(); ++i) {
        const int64_t channel = i / (block * actual.dim(2) * actual.dim(3)) % actual.dim(1) * block + i % block;
        if (channel >= c.expanded) continue;
        ASSERT_NEAR(actual.data<float>()[i], expected.data<float>()[i], 1e-5 + 1e-5 * std::abs(expected.data<float>()[i]))
            << "at element " << i;
      }
    }
  }
}

TEST_P(NchwcPointwiseDepthwiseTest, RejectsFiltersOfTheWrongShape) {
  const int64_t block = kernels::nchwc_block(GetParam());
  const Tensor x = random_tensor({1, 1, 5, 5, block}, 6);
  const Tensor w1 = random_tensor({16, 8, 3, 3}, 7), w2 = random_tensor({16, 1, 3, 3}, 8);
  testing::expect_node_error({.op = "NchwcPointwiseDepthwise", .inputs = {x, w1, Tensor(), w2},
                              .attributes = {{"group", int64_t{16}}, {"block", block}}, .domain = "kiln",
                              .constant_inputs = {1, 3}, .cpu_level = cpu_level_name(GetParam())},
                             ErrorCode::InvalidModel, "must be [E, C, 1, 1]");
}

TEST_P(NchwcPointwiseDepthwiseTest, EmptyBatchAndUnsupportedStrides) {
  const int64_t block = kernels::nchwc_block(GetParam());
  const Tensor w1 = random_tensor({16, 8, 1, 1}, 9), w2 = random_tensor({16, 1, 3, 3}, 10);
  std::map<std::string, ir::Attribute> attributes{{"group", int64_t{16}}, {"block", block}, {"pads", Ints{1, 1, 1, 1}}};
  const Tensor empty(DType::Float32, {0, 1, 5, 5, block});
  const Tensor y = run_node({.op = "NchwcPointwiseDepthwise", .inputs = {empty, w1, Tensor(), w2}, .attributes = attributes,
                             .domain = "kiln", .constant_inputs = {1, 3}, .cpu_level = cpu_level_name(GetParam()),
                             .threads = 3})[0];
  EXPECT_EQ(y.shape(), (Shape{0, kernels::nchwc_blocks(16, block), 5, 5, block}));
  attributes["strides"] = Ints{1, 3};
  testing::expect_node_error({.op = "NchwcPointwiseDepthwise", .inputs = {empty, w1, Tensor(), w2},
                              .attributes = attributes, .domain = "kiln", .constant_inputs = {1, 3},
                              .cpu_level = cpu_level_name(GetParam())},
                             ErrorCode::NotImplemented, "horizontal strides other than 1 and 2");
}

KILN_INSTANTIATE_LEVEL_SWEEP(NchwcPointwiseDepthwiseTest);

}  // namespace
}  // namespace kiln
