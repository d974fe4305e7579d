// kiln.NchwcConv (kernels/cpu/nchwc_conv.h) at every CPU level and thread count against its
// reference twin, over odd channel counts (padded blocks whose spare lanes hold random values
// that must not leak into real channels), odd plane sizes, strides, dilations, asymmetric pads,
// depthwise filters and every epilogue. The reference itself is checked against ONNX Conv on the
// same data in NCHW.
#include <gtest/gtest.h>

#include "kernels/cpu/nchwc.h"
#include "kernels/cpu/nchwc_conv_ref.h"
#include "level_sweep.h"
#include "test_util.h"

namespace kiln {
namespace {

using Ints = std::vector<int64_t>;
using testing::random_tensor;
using testing::run_node;

struct NchwcConvCase {
  const char* name;
  int64_t batch, channels, out_channels, height, width, kernel_h, kernel_w;
  Ints strides, pads, dilations;
  bool depthwise = false;
  bool nchw_input = false;  // X in plain NCHW, Y in NCHWc
};

const NchwcConvCase kCases[] = {
    {"1x1 flat plane", 1, 16, 32, 7, 7, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}},
    {"1x1 odd channels", 2, 13, 40, 5, 9, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}},
    {"1x1 long plane", 1, 8, 24, 17, 23, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}},
    {"1x1 stride 2", 1, 24, 48, 9, 9, 1, 1, {2, 2}, {0, 0, 0, 0}, {1, 1}},
    {"3x3 pad 1 one block", 1, 16, 16, 14, 14, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}},
    {"3x3 pad 1 stride 2", 2, 33, 24, 15, 13, 3, 3, {2, 2}, {1, 1, 1, 1}, {1, 1}},
    {"3x3 no padding", 1, 8, 20, 6, 17, 3, 3, {1, 1}, {0, 0, 0, 0}, {1, 1}},
    {"3x3 wide rows", 1, 8, 32, 3, 61, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}},
    {"3x3 stride 2 by 1", 1, 9, 17, 10, 11, 3, 3, {2, 1}, {1, 1, 1, 1}, {1, 1}},
    {"5x5 dilated asymmetric pads", 1, 17, 37, 11, 12, 5, 5, {1, 1}, {2, 1, 3, 4}, {2, 2}},
    {"7x7 pad 3 stride 2", 1, 8, 16, 13, 14, 7, 7, {2, 2}, {3, 3, 3, 3}, {1, 1}},
    {"1x3 rows", 1, 12, 12, 4, 9, 1, 3, {1, 1}, {0, 1, 0, 1}, {1, 1}},
    {"depthwise 3x3", 1, 24, 24, 14, 14, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}, true},
    {"depthwise stride 2", 2, 13, 13, 15, 16, 3, 3, {2, 2}, {1, 1, 1, 1}, {1, 1}, true},
    {"depthwise 5x5", 1, 40, 40, 7, 7, 5, 5, {1, 1}, {2, 2, 2, 2}, {1, 1}, true},
    {"depthwise dilated", 1, 16, 16, 9, 30, 3, 3, {1, 1}, {2, 2, 2, 2}, {2, 2}, true},
    {"3x3 pad 1 tall plane in bands", 2, 8, 16, 40, 12, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}},
    {"5x5 dilated stride 2 tall plane in bands", 1, 8, 8, 37, 10, 5, 5, {2, 1}, {4, 2, 3, 1}, {2, 1}},
    {"3x3 over 80 channels in chunks", 1, 80, 24, 6, 9, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}},
    {"3x3 on a 1x1 plane", 1, 16, 24, 1, 1, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}},
    {"pads beyond the kernel", 2, 8, 16, 5, 4, 3, 3, {1, 2}, {3, 4, 2, 3}, {1, 1}},
    {"depthwise pads beyond the kernel", 1, 16, 16, 3, 5, 3, 3, {2, 1}, {4, 4, 4, 4}, {1, 1}, true},
    {"NCHW input 7x7 stride 2", 1, 3, 40, 29, 30, 7, 7, {2, 2}, {3, 3, 3, 3}, {1, 1}, false, true},
    {"NCHW input 3x3 stride 2", 2, 3, 16, 15, 16, 3, 3, {2, 2}, {1, 1, 1, 1}, {1, 1}, false, true},
    {"NCHW input 1x1", 1, 5, 24, 6, 7, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, false, true},
};

std::map<std::string, ir::Attribute> conv_attributes(const NchwcConvCase& c) {
  return {{"strides", c.strides}, {"pads", c.pads}, {"dilations", c.dilations},
          {"group", c.depthwise ? c.channels : int64_t{1}}};
}

kernels::NchwcConvGeometry geometry_of(const NchwcConvCase& c) {
  auto out = [](int64_t in, int64_t kernel, int64_t stride, int64_t pad_sum, int64_t dilation) {
    return (in + pad_sum - dilation * (kernel - 1) - 1) / stride + 1;
  };
  return {c.batch,
          c.height,
          c.width,
          out(c.height, c.kernel_h, c.strides[0], c.pads[0] + c.pads[2], c.dilations[0]),
          out(c.width, c.kernel_w, c.strides[1], c.pads[1] + c.pads[3], c.dilations[1]),
          c.kernel_h,
          c.kernel_w,
          c.strides[0],
          c.strides[1],
          c.dilations[0],
          c.dilations[1],
          c.pads[0],
          c.pads[1]};
}

Shape nchwc_shape(int64_t batch, int64_t channels, int64_t h, int64_t w, int64_t block) {
  return {batch, kernels::nchwc_blocks(channels, block), h, w, block};
}

// The real channels of an NCHWc tensor as NCHW: what outputs are compared on.
Tensor to_nchw(const Tensor& t, int64_t channels) {
  const int64_t n = t.dim(0), h = t.dim(2), w = t.dim(3), block = t.dim(4);
  Tensor out(DType::Float32, {n, channels, h, w});
  for (int64_t b = 0; b < n; ++b)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t i = 0; i < h * w; ++i)
        out.data<float>()[(b * channels + c) * h * w + i] =
            t.data<float>()[((b * t.dim(1) + c / block) * h * w + i) * block + c % block];
  return out;
}

// X as the case's kernel reads it: NCHWc with `block`, or NCHW.
Tensor input_of(const NchwcConvCase& c, int64_t block, uint32_t seed) {
  const Shape nchw{c.batch, c.channels, c.height, c.width};
  return random_tensor(c.nchw_input ? nchw : nchwc_shape(c.batch, c.channels, c.height, c.width, block), seed);
}

Tensor reference(const NchwcConvCase& c, const Tensor& x, const Tensor& w, const float* bias, const Tensor* z,
                 const kernels::Activation& activation, int64_t block) {
  const kernels::NchwcConvGeometry g = geometry_of(c);
  Tensor y(DType::Float32, nchwc_shape(c.batch, c.out_channels, g.out_h, g.out_w, block));
  kernels::compute_nchwc_conv_ref(x.data<float>(), c.nchw_input ? 1 : block, w.data<float>(), c.out_channels,
                                  c.channels, c.depthwise, g, block, y.data<float>(),
                                  {bias, z ? z->data<float>() : nullptr, activation});
  return to_nchw(y, c.out_channels);
}

// Float sums of more products round further from the reference's order: absolute error grows
// with the taps per output.
double tolerance_of(const NchwcConvCase& c) {
  return 1e-5 + 2e-7 * static_cast<double>((c.depthwise ? 1 : c.channels) * c.kernel_h * c.kernel_w);
}

Tensor weights_of(const NchwcConvCase& c, uint32_t seed) {
  return random_tensor({c.out_channels, c.depthwise ? 1 : c.channels, c.kernel_h, c.kernel_w}, seed);
}

class NchwcConvTest : public testing::LevelSweep {
 protected:
  int64_t block() const { return kernels::nchwc_block(GetParam()); }

  Tensor run_nchwc(const NchwcConvCase& c, std::map<std::string, ir::Attribute> attributes,
                   std::vector<Tensor> inputs, int threads) const {
    attributes["block"] = block();
    if (c.nchw_input) attributes["nchw_input"] = int64_t{1};
    return run_node({.op = "NchwcConv",
                     .inputs = std::move(inputs),
                     .attributes = std::move(attributes),
                     .domain = "kiln",
                     .constant_inputs = {1, 2},
                     .cpu_level = cpu_level_name(GetParam()),
                     .threads = threads})[0];
  }
};

TEST(NchwcConvReference, MatchesOnnxConv) {
  const int64_t block = 8;
  for (const NchwcConvCase& c : kCases) {
    SCOPED_TRACE(c.name);
    const Tensor x = input_of(c, block, 1);
    const Tensor w = weights_of(c, 2), b = random_tensor({c.out_channels}, 3);
    const Tensor x_nchw = c.nchw_input ? x : to_nchw(x, c.channels);
    const Tensor onnx = run_node({.op = "Conv", .inputs = {x_nchw, w, b}, .attributes = conv_attributes(c)})[0];
    testing::expect_tensor_near(reference(c, x, w, b.data<float>(), nullptr, {}, block), onnx, tolerance_of(c), 1e-5);
  }
}

TEST_P(NchwcConvTest, MatchesReference) {
  for (const NchwcConvCase& c : kCases) {
    const Tensor x = input_of(c, block(), 4);
    const Tensor w = weights_of(c, 5), b = random_tensor({c.out_channels}, 6);
    const Tensor expected = reference(c, x, w, b.data<float>(), nullptr, {}, block());
    for (int threads : {1, 3}) {
      SCOPED_TRACE(::testing::Message() << c.name << " at " << cpu_level_name(GetParam()) << ", " << threads << " threads");
      testing::expect_tensor_near(to_nchw(run_nchwc(c, conv_attributes(c), {x, w, b}, threads), c.out_channels),
                                  expected, tolerance_of(c), 1e-5);
    }
  }
}

TEST_P(NchwcConvTest, EpilogueAddsResidualBeforeActivation) {
  const std::pair<std::string, kernels::Activation> activations[] = {
      {"", {}},
      {"Relu", {kernels::ActivationKind::Relu}},
      {"Clip", {kernels::ActivationKind::Clip, 0.f, 0.5f}},
      {"LeakyRelu", {kernels::ActivationKind::LeakyRelu, 0.2f}},
      {"HardSwish", {kernels::ActivationKind::HardSwish}},
      {"Sigmoid", {kernels::ActivationKind::Sigmoid}}};
  for (const NchwcConvCase& c : {kCases[1], kCases[5], kCases[13], kCases[21]}) {
    const kernels::NchwcConvGeometry g = geometry_of(c);
    const Tensor x = input_of(c, block(), 7);
    const Tensor w = weights_of(c, 8), b = random_tensor({c.out_channels}, 9);
    const Tensor z = random_tensor(nchwc_shape(c.batch, c.out_channels, g.out_h, g.out_w, block()), 10);
    const Tensor channel_z = random_tensor(nchwc_shape(1, c.out_channels, 1, 1, block()), 11);
    for (const auto& [name, activation] : activations) {
      auto attributes = conv_attributes(c);
      if (!name.empty()) attributes["activation"] = name;
      if (activation.kind == kernels::ActivationKind::Clip) attributes["activation_params"] = std::vector<float>{0.f, 0.5f};
      if (activation.kind == kernels::ActivationKind::LeakyRelu) attributes["activation_params"] = std::vector<float>{0.2f};
      for (const Tensor* residual : {&z, &channel_z}) {
        // The broadcast Z's reference: the same values expanded to Y's shape.
        Tensor full(DType::Float32, z.shape());
        for (int64_t i = 0; i < full.numel(); ++i) {
          const int64_t lane = i % block(), channel_block = i / (block() * g.out_h * g.out_w) % z.dim(1);
          full.data<float>()[i] = residual == &z ? z.data<float>()[i] : channel_z.data<float>()[channel_block * block() + lane];
        }
        const Tensor expected = reference(c, x, w, b.data<float>(), &full, activation, block());
        SCOPED_TRACE(::testing::Message() << c.name << " with " << (name.empty() ? "no activation" : name)
                                          << (residual == &z ? ", full Z" : ", per-channel Z"));
        testing::expect_tensor_near(to_nchw(run_nchwc(c, attributes, {x, w, b, *residual}, 3), c.out_channels), expected,
                                    1e-5, 1e-5);
      }
    }
  }
}

TEST_P(NchwcConvTest, RejectsWrongBlockAndLayout) {
  const NchwcConvCase& c = kCases[0];
  const Tensor x = random_tensor(nchwc_shape(1, c.channels, c.height, c.width, block()), 12);
  const Tensor w = weights_of(c, 13);
  auto attributes = conv_attributes(c);
  attributes["block"] = block() == 16 ? int64_t{8} : int64_t{16};
  testing::expect_node_error({.op = "NchwcConv", .inputs = {x, w}, .attributes = attributes, .domain = "kiln",
                              .constant_inputs = {1}, .cpu_level = cpu_level_name(GetParam())},
                             ErrorCode::InvalidModel, "does not match CPU level");
  attributes["block"] = block();
  testing::expect_node_error({.op = "NchwcConv", .inputs = {to_nchw(x, c.channels), w}, .attributes = attributes,
                              .domain = "kiln", .constant_inputs = {1}, .cpu_level = cpu_level_name(GetParam())},
                             ErrorCode::InvalidArgument, "X must be float32 NCHWc");
  testing::expect_node_error({.op = "NchwcConv", .inputs = {x, w}, .attributes = attributes, .domain = "kiln",
                              .cpu_level = cpu_level_name(GetParam())},
                             ErrorCode::InvalidModel, "W must be a non-empty float32 initializer");
  attributes["kernel_shape"] = Ints{3, 3};
  testing::expect_node_error({.op = "NchwcConv", .inputs = {x, w}, .attributes = attributes, .domain = "kiln",
                              .constant_inputs = {1}, .cpu_level = cpu_level_name(GetParam())},
                             ErrorCode::InvalidModel, "kernel_shape does not match W");
}

TEST_P(NchwcConvTest, EmptyBatchGivesAnEmptyOutput) {
  const NchwcConvCase& c = kCases[4];
  const Tensor x(DType::Float32, nchwc_shape(0, c.channels, c.height, c.width, block()));
  const Tensor y = run_nchwc(c, conv_attributes(c), {x, weights_of(c, 14), random_tensor({c.out_channels}, 15)}, 3);
  EXPECT_EQ(y.shape(), nchwc_shape(0, c.out_channels, c.height, c.width, block()));
}

TEST_P(NchwcConvTest, RejectsWindowsItCannotRun) {
  const NchwcConvCase& c = kCases[4];
  const Tensor x = random_tensor(nchwc_shape(1, c.channels, c.height, c.width, block()), 16);
  auto attributes = conv_attributes(c);
  attributes["block"] = block();
  attributes["strides"] = Ints{1, 3};
  testing::expect_node_error({.op = "NchwcConv", .inputs = {x, weights_of(c, 17)}, .attributes = attributes,
                              .domain = "kiln", .constant_inputs = {1}, .cpu_level = cpu_level_name(GetParam())},
                             ErrorCode::NotImplemented, "horizontal strides other than 1 and 2");
  attributes["strides"] = Ints{1, 1};
  attributes["pads"] = Ints{1, 1, int64_t{1} << 40, 1};
  testing::expect_node_error({.op = "NchwcConv", .inputs = {x, weights_of(c, 17)}, .attributes = attributes,
                              .domain = "kiln", .constant_inputs = {1}, .cpu_level = cpu_level_name(GetParam())},
                             ErrorCode::InvalidModel, "holds a value above");
}

KILN_INSTANTIATE_LEVEL_SWEEP(NchwcConvTest);

}  // namespace
}  // namespace kiln
