// The prepared convolution (packed weights: depthwise, pointwise and im2col-GEMM algorithms) at
// every CPU level and thread count, against the reference convolution, which runs when W is not a
// constant. Also kiln.FusedConv's residual and activation against the unfused ops.
#include <gtest/gtest.h>

#include "kernels/cpu/activation.h"
#include "kernels/cpu/sgemm.h"
#include "level_sweep.h"
#include "test_util.h"

namespace kiln {
namespace {

using Ints = std::vector<int64_t>;
using testing::random_tensor;
using testing::run_node;

struct FastConvCase {
  const char* name;
  Shape x, w;
  Ints strides, pads, dilations;
  int64_t group = 1;
};

const FastConvCase kCases[] = {
    {"pointwise", {1, 13, 7, 9}, {17, 13, 1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}},
    {"pointwise batch 2", {2, 16, 5, 5}, {33, 16, 1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}},
    {"3x3 pad 1", {1, 5, 13, 11}, {15, 5, 3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}},
    {"3x3 stride 2", {1, 8, 15, 14}, {29, 8, 3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}},
    {"7x7 stride 2 pad 3", {1, 3, 31, 29}, {16, 3, 7, 7}, {2, 2}, {3, 3, 3, 3}, {1, 1}},
    {"1x1 stride 2", {1, 12, 9, 9}, {20, 12, 1, 1}, {2, 2}, {0, 0, 0, 0}, {1, 1}},
    {"dilated asymmetric pads", {1, 4, 12, 10}, {6, 4, 3, 2}, {1, 2}, {2, 0, 1, 3}, {2, 3}},
    {"grouped", {2, 8, 9, 7}, {12, 4, 3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 2},
    {"depthwise 3x3", {1, 13, 14, 15}, {13, 1, 3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 13},
    {"depthwise stride 2", {2, 7, 17, 16}, {7, 1, 3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 7},
    {"depthwise 5x5 stride 3", {1, 3, 20, 19}, {3, 1, 5, 5}, {3, 3}, {2, 1, 2, 1}, {1, 1}, 3},
    {"depthwise narrower than its filter", {1, 3, 2, 1}, {3, 1, 3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 3},
    {"depthwise 2 wide stride 2", {1, 2, 5, 2}, {2, 1, 3, 3}, {2, 2}, {1, 0, 1, 1}, {1, 1}, 2},
    {"depthwise multiplier 2", {1, 4, 9, 9}, {8, 1, 3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 4},
    {"1-D", {1, 6, 37}, {9, 6, 5}, {2}, {2, 1}, {1}},
    {"1-D depthwise", {1, 6, 37}, {6, 1, 3}, {1}, {1, 1}, {1}, 6},
};

std::map<std::string, ir::Attribute> attributes_of(const FastConvCase& c) {
  return {{"strides", c.strides}, {"pads", c.pads}, {"dilations", c.dilations}, {"group", c.group}};
}

class FastConvTest : public ::testing::TestWithParam<CpuLevel> {};

TEST_P(FastConvTest, PreparedConvolutionMatchesReference) {
  for (const FastConvCase& c : kCases) {
    const Tensor x = random_tensor(c.x, 1), w = random_tensor(c.w, 2), b = random_tensor({c.w[0]}, 3);
    // W fed at run time (not a constant) takes the reference path.
    const Tensor expected = run_node({.op = "Conv", .inputs = {x, w, b}, .attributes = attributes_of(c)})[0];
    for (int threads : {1, 3}) {
      const Tensor actual = run_node({.op = "Conv",
                                      .inputs = {x, w, b},
                                      .attributes = attributes_of(c),
                                      .constant_inputs = {1, 2},
                                      .cpu_level = cpu_level_name(GetParam()),
                                      .threads = threads})[0];
      SCOPED_TRACE(::testing::Message() << c.name << " at " << cpu_level_name(GetParam()) << " with " << threads << " threads");
      testing::expect_tensor_near(actual, expected, 1e-5, 1e-5);
    }
  }
}

TEST_P(FastConvTest, FusedConvAddsResidualBeforeActivation) {
  const FastConvCase cases[] = {kCases[2], kCases[0], kCases[8]};
  const std::pair<std::string, std::vector<float>> activations[] = {
      {"Relu", {}}, {"Clip", {0.f, 0.5f}}, {"LeakyRelu", {0.2f}}, {"HardSwish", {}}, {"Sigmoid", {}}};
  for (const FastConvCase& c : cases) {
    const Tensor x = random_tensor(c.x, 4), w = random_tensor(c.w, 5), b = random_tensor({c.w[0]}, 6);
    const Tensor conv = run_node({.op = "Conv", .inputs = {x, w, b}, .attributes = attributes_of(c)})[0];
    const Tensor z = random_tensor(conv.shape(), 7);
    const Tensor channel_z = random_tensor({1, conv.dim(1), 1, 1}, 8);
    for (const auto& [activation, params] : activations) {
      for (const Tensor& residual : {z, channel_z}) {
        if (residual.rank() != conv.rank()) continue;
        auto attributes = attributes_of(c);
        attributes["activation"] = activation;
        if (!params.empty()) attributes["activation_params"] = params;
        const Tensor actual = run_node({.op = "FusedConv",
                                        .inputs = {x, w, b, residual},
                                        .attributes = attributes,
                                        .domain = "kiln",
                                        .constant_inputs = {1, 2},
                                        .cpu_level = cpu_level_name(GetParam())})[0];
        const Tensor sum = run_node({.op = "Add", .inputs = {conv, residual}})[0];
        std::map<std::string, ir::Attribute> act_attributes;
        std::vector<Tensor> act_inputs = {sum};
        if (activation == "Clip")
          act_inputs = {sum, Tensor::scalar(params[0]), Tensor::scalar(params[1])};
        if (activation == "LeakyRelu") act_attributes["alpha"] = params[0];
        const Tensor expected = run_node({.op = activation, .inputs = act_inputs, .attributes = act_attributes})[0];
        SCOPED_TRACE(::testing::Message() << c.name << " " << activation << " residual "
                                          << shape_to_string(residual.shape()) << " at " << cpu_level_name(GetParam()));
        testing::expect_tensor_near(actual, expected, 1e-5, 1e-5);
      }
    }
  }
}

KILN_INSTANTIATE_LEVEL_SWEEP(FastConvTest);

TEST(FusedConv, UnknownActivationIsAnError) {
  testing::expect_node_error({.op = "FusedConv",
                              .inputs = {random_tensor({1, 1, 3, 3}, 1), random_tensor({1, 1, 1, 1}, 2)},
                              .attributes = {{"activation", std::string("Swoosh")}},
                              .domain = "kiln"},
                             ErrorCode::InvalidModel, "unknown fused activation 'Swoosh'");
}

}  // namespace
}  // namespace kiln
