// The level-3 layout pass (passes/nchwc_layout.h): which nodes become NCHWc, where the reorders
// go, and what it must leave alone (the block follows the CPU level; the structural tests use
// AVX2's, 8), and that small convolutional nets compute at level 3 what they compute unoptimized,
// at every CPU level.
#include <algorithm>

#include "graph_builder.h"
#include "level_sweep.h"

namespace kiln {
namespace {

using testing::GraphBuilder;
using testing::random_tensor;
using Ints = std::vector<int64_t>;
using Ops = std::vector<std::string>;

const std::map<std::string, ir::Attribute> kPad1 = {{"pads", Ints{1, 1, 1, 1}}};

ir::Model laid_out(const GraphBuilder& b) { return b.optimized(3, CpuLevel::Avx2); }

Ops ops_of(const ir::Model& m) {
  Ops ops;
  for (const auto& n : m.graph.nodes) ops.push_back(n.op_type);
  return ops;
}

// The ops in name order, where the graph's order of independent nodes is not the point.
Ops sorted(Ops ops) {
  std::sort(ops.begin(), ops.end());
  return ops;
}

const ir::Node& producer(const ir::Model& m, const std::string& value) {
  return m.graph.nodes.at(m.graph.producers().at(value));
}

// x [1, 16, 10, 10] -> Conv -> Relu -> Conv -> Add(relu) -> Relu -> MaxPool -> GlobalAveragePool
// -> Flatten -> Gemm: a ResNet stage in miniature, 16 channels wide.
GraphBuilder resnet_stage() {
  GraphBuilder b;
  b.input("x", random_tensor({1, 16, 10, 10}, 1));
  b.constant("w1", random_tensor({16, 16, 3, 3}, 2, -0.3f, 0.3f));
  b.constant("b1", random_tensor({16}, 3));
  b.constant("w2", random_tensor({16, 16, 3, 3}, 4, -0.2f, 0.2f));
  b.constant("fc", random_tensor({16, 5}, 5));
  b.node("Conv", {"x", "w1", "b1"}, "c1", kPad1);
  b.node("Relu", {"c1"}, "r1");
  b.node("Conv", {"r1", "w2"}, "c2", kPad1);
  b.node("Add", {"c2", "r1"}, "sum");
  b.node("Relu", {"sum"}, "r2");
  b.node("MaxPool", {"r2"}, "pool", {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}});
  b.node("GlobalAveragePool", {"pool"}, "gap");
  b.node("Flatten", {"gap"}, "flat");
  b.node("Gemm", {"flat", "fc"}, "y");
  b.output("y");
  return b;
}

TEST(NchwcLayoutPass, ConvChainRunsInNchwcBetweenTwoReorders) {
  const ir::Model m = laid_out(resnet_stage());
  EXPECT_EQ(ops_of(m), (Ops{"NchwcReorderInput", "NchwcConv", "NchwcConv", "NchwcMaxPool", "NchwcGlobalAveragePool",
                            "NchwcReorderOutput", "Flatten", "Gemm"}));
  // The fused residual and activation ride along; the NCHW name "gap" means NCHW data again.
  const ir::Node& second = m.graph.nodes[2];
  EXPECT_EQ(second.inputs[3], m.graph.nodes[1].outputs[0]);
  EXPECT_EQ(std::get<std::string>(second.attributes.at("activation")), "Relu");
  const ir::Node& back = producer(m, "gap");
  EXPECT_EQ(back.op_type, "NchwcReorderOutput");
  EXPECT_EQ(std::get<int64_t>(back.attributes.at("channels")), 16);
  for (const auto& n : m.graph.nodes) {
    if (n.domain != "kiln") continue;
    EXPECT_EQ(std::get<int64_t>(n.attributes.at("block")), 8) << n.describe();
    if (n.op_type != "NchwcReorderOutput") {
      EXPECT_EQ(m.graph.find_value(n.outputs[0])->dtype, DType::Float32) << n.describe();
    }
  }
  EXPECT_EQ(m.opset("kiln"), 1);
  // The block follows the CPU level.
  EXPECT_EQ(std::get<int64_t>(resnet_stage().optimized(3, CpuLevel::Avx512).graph.nodes[0].attributes.at("block")), 16);
}

TEST(NchwcLayoutPass, OneReorderPerValueAndGraphOutputsStayNchw) {
  GraphBuilder b;
  b.input("x", random_tensor({1, 16, 6, 6}, 10));
  b.constant("w", random_tensor({16, 16, 1, 1}, 11));
  b.constant("w2", random_tensor({16, 16, 1, 1}, 12));
  b.node("Conv", {"x", "w"}, "a");
  b.node("Relu", {"a"}, "ra");
  b.node("Conv", {"x", "w2"}, "b");  // a second reader of x: the same NchwcReorderInput
  b.node("Relu", {"b"}, "rb");
  b.node("Add", {"ra", "rb"}, "sum");  // two twins of one channel count: converted
  b.node("Softmax", {"sum"}, "soft");  // two NCHW readers of "sum": one NchwcReorderOutput
  b.node("Sigmoid", {"sum"}, "sig");   // converted: "sig" is then a graph output in NCHWc
  b.output("sum");
  b.output("soft");
  b.output("sig");
  const ir::Model m = laid_out(b);
  EXPECT_EQ(sorted(ops_of(m)), sorted({"NchwcReorderInput", "NchwcConv", "NchwcConv", "Add", "NchwcReorderOutput",
                                      "Softmax", "Sigmoid", "NchwcReorderOutput"}));
  EXPECT_EQ(producer(m, "sum").op_type, "NchwcReorderOutput");
  EXPECT_EQ(producer(m, "sig").op_type, "NchwcReorderOutput");
  EXPECT_EQ(producer(m, producer(m, "sum").inputs[0]).op_type, "Add");
  EXPECT_EQ(producer(m, producer(m, "sig").inputs[0]).op_type, "Sigmoid");
}

// An RGB first layer reads its NCHW input in place and starts the chain; a convolution to fewer
// channels than a block from an NCHW input (not worth the padding) stays NCHW.
TEST(NchwcLayoutPass, NarrowInputConvReadsNchwInPlace) {
  GraphBuilder b;
  b.input("image", random_tensor({1, 3, 8, 8}, 20));
  b.constant("w1", random_tensor({16, 3, 3, 3}, 21));
  b.constant("w2", random_tensor({16, 16, 3, 3}, 22));
  b.constant("w3", random_tensor({2, 3, 1, 1}, 23));
  b.node("Conv", {"image", "w1"}, "c1", kPad1);
  b.node("Relu", {"c1"}, "r1");
  b.node("Conv", {"r1", "w2"}, "y", kPad1);
  b.node("Conv", {"image", "w3"}, "tiny");
  b.output("y");
  b.output("tiny");
  const ir::Model m = laid_out(b);
  EXPECT_EQ(ops_of(m), (Ops{"NchwcConv", "NchwcConv", "Conv", "NchwcReorderOutput"}));
  EXPECT_EQ(m.graph.nodes[0].inputs[0], "image");
  EXPECT_EQ(std::get<int64_t>(m.graph.nodes[0].attributes.at("nchw_input")), 1);
  EXPECT_EQ(m.graph.nodes[1].attributes.count("nchw_input"), 0u);
}

TEST(NchwcLayoutPass, MixedLayoutsAndUnsafeOpsGetReorders) {
  GraphBuilder b;
  b.input("x", random_tensor({1, 8, 6, 6}, 30));
  b.input("skip", random_tensor({1, 8, 6, 6}, 31));
  b.constant("w", random_tensor({8, 8, 3, 3}, 32));
  b.constant("two", Tensor::scalar(2.f));
  b.node("Conv", {"x", "w"}, "c", kPad1);
  b.node("Relu", {"c"}, "r");              // fused into the conv, so no Conv+Add fusion follows
  b.node("Add", {"r", "skip"}, "mixed");   // skip is NCHW: the Add stays NCHW
  b.node("Mul", {"r", "two"}, "scaled");   // a twin and a scalar constant: converted
  b.node("Div", {"scaled", "two"}, "divided");  // never converted
  b.node("MaxPool", {"skip"}, "pooled", {{"kernel_shape", Ints{2, 2}}});  // NCHW input: not reordered to pool
  b.output("mixed");
  b.output("divided");
  b.output("pooled");
  const ir::Model m = laid_out(b);
  EXPECT_EQ(sorted(ops_of(m)), sorted({"NchwcReorderInput", "NchwcConv", "NchwcReorderOutput", "Add", "Mul",
                                      "NchwcReorderOutput", "Div", "MaxPool"}));
  EXPECT_EQ(producer(m, "r").op_type, "NchwcReorderOutput");
  EXPECT_EQ(producer(m, "scaled").op_type, "NchwcReorderOutput");
}

TEST(NchwcLayoutPass, DepthwiseStridesAndPaddingDecide) {
  GraphBuilder b;
  b.input("x", random_tensor({1, 16, 12, 12}, 40));
  b.constant("dw", random_tensor({16, 1, 3, 3}, 41));
  b.constant("pw", random_tensor({16, 16, 1, 1}, 42));
  b.constant("grouped", random_tensor({16, 8, 3, 3}, 43));
  const auto with = [](std::map<std::string, ir::Attribute> a, const std::string& key, ir::Attribute v) {
    a[key] = std::move(v);
    return a;
  };
  b.node("Conv", {"x", "dw"}, "depthwise", with(with(kPad1, "group", int64_t{16}), "strides", Ints{2, 2}));
  b.node("Conv", {"depthwise", "pw"}, "stride3", {{"strides", Ints{3, 3}}});  // stays: stride 3
  b.node("Conv", {"depthwise", "pw"}, "same", {{"auto_pad", std::string("SAME_UPPER")}});  // stays: auto_pad
  b.node("Conv", {"depthwise", "grouped"}, "groups", with(kPad1, "group", int64_t{2}));  // stays: 2 groups
  b.output("stride3");
  b.output("same");
  b.output("groups");
  const ir::Model m = laid_out(b);
  EXPECT_EQ(sorted(ops_of(m)), sorted({"NchwcReorderInput", "NchwcConv", "NchwcReorderOutput", "Conv", "Conv", "Conv"}));
}

TEST(NchwcLayoutPass, NothingToDoLeavesTheGraphAloneAndRunningTwiceChangesNothing) {
  GraphBuilder b;
  b.input("x", random_tensor({1, 3, 4, 4}, 50));
  b.node("MaxPool", {"x"}, "y", {{"kernel_shape", Ints{2, 2}}});
  b.output("y");
  EXPECT_EQ(laid_out(b).graph.nodes.size(), 1u);
  EXPECT_FALSE(laid_out(b).opset_imports.count("kiln"));

  ir::Model once = laid_out(resnet_stage());
  const Ops ops = ops_of(once);
  passes::optimize(once, {3, CpuLevel::Avx2});
  EXPECT_EQ(ops_of(once), ops);
}

class NchwcLayoutEndToEnd : public testing::LevelSweep {
 protected:
  void expect_level_3_matches_level_0(const GraphBuilder& b) const {
    const Ops ops = b.optimized_ops(3, GetParam());
    EXPECT_NE(std::find(ops.begin(), ops.end(), "NchwcConv"), ops.end()) << "nothing was laid out";
    for (int threads : {1, 3}) b.expect_matches_unoptimized(3, 1e-4, GetParam(), threads);
  }
};

TEST_P(NchwcLayoutEndToEnd, ResNetStage) { expect_level_3_matches_level_0(resnet_stage()); }

// MobileNetV2's inverted residual over 24 channels (not a multiple of 16): 1x1 expansion, ReLU6,
// depthwise 3x3, ReLU6, 1x1 projection plus the block's input; then a strided depthwise
// downsampling block of 20 channels and the average pools.
// An expansion whose only reader is a depthwise convolution fuses with it; one with a second
// reader (here a graph output) stays a separate NchwcConv.
TEST(NchwcLayoutPass, ExpansionFusesIntoItsDepthwiseConvolution) {
  for (bool second_reader : {false, true}) {
    GraphBuilder b;
    b.input("x", random_tensor({1, 24, 9, 9}, 100));
    b.constant("expand", random_tensor({72, 24, 1, 1}, 101));
    b.constant("dw", random_tensor({72, 1, 3, 3}, 102));
    b.node("Conv", {"x", "expand"}, "e");
    b.node("Relu", {"e"}, "e_act");
    b.node("Conv", {"e_act", "dw"}, "y", {{"group", int64_t{72}}, {"pads", Ints{1, 1, 1, 1}}});
    b.output("y");
    if (second_reader) b.output("e_act");
    const ir::Model m = laid_out(b);
    const Ops expected = second_reader ? Ops{"NchwcReorderInput", "NchwcConv", "NchwcConv", "NchwcReorderOutput",
                                             "NchwcReorderOutput"}
                                       : Ops{"NchwcReorderInput", "NchwcPointwiseDepthwise", "NchwcReorderOutput"};
    EXPECT_EQ(ops_of(m), expected) << (second_reader ? "second reader" : "sole reader");
    if (second_reader) continue;
    const ir::Node& fused = m.graph.nodes[1];
    EXPECT_EQ(fused.inputs.size(), 5u);
    EXPECT_EQ(fused.inputs[1], "expand");
    EXPECT_EQ(fused.inputs[3], "dw");
    EXPECT_EQ(std::get<std::string>(fused.attributes.at("pointwise_activation")), "Relu");
    EXPECT_EQ(fused.attributes.count("activation"), 0u);
  }
}

TEST_P(NchwcLayoutEndToEnd, DepthwiseBlocksWithUnevenChannels) {
  GraphBuilder b;
  b.input("x", random_tensor({2, 24, 11, 11}, 70));
  b.constant("lo", Tensor::scalar(0.f));
  b.constant("hi", Tensor::scalar(6.f));
  b.constant("expand", random_tensor({72, 24, 1, 1}, 71, -0.3f, 0.3f));
  b.constant("expand_b", random_tensor({72}, 72));
  b.constant("dw", random_tensor({72, 1, 3, 3}, 73, -0.5f, 0.5f));
  b.constant("project", random_tensor({24, 72, 1, 1}, 74, -0.2f, 0.2f));
  b.constant("narrow", random_tensor({20, 24, 1, 1}, 75, -0.3f, 0.3f));
  b.constant("dw2", random_tensor({20, 1, 3, 3}, 76, -0.5f, 0.5f));
  b.node("Conv", {"x", "expand", "expand_b"}, "e");
  b.node("Clip", {"e", "lo", "hi"}, "e6");
  b.node("Conv", {"e6", "dw"}, "d", {{"group", int64_t{72}}, {"pads", Ints{1, 1, 1, 1}}});
  b.node("Clip", {"d", "lo", "hi"}, "d6");
  b.node("Conv", {"d6", "project"}, "p");
  b.node("Add", {"p", "x"}, "block");
  b.node("Conv", {"block", "narrow"}, "n");
  b.node("HardSwish", {"n"}, "n_act");
  b.node("Conv", {"n_act", "dw2"}, "down", {{"group", int64_t{20}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}});
  b.node("AveragePool", {"down"}, "avg",
         {{"kernel_shape", Ints{3, 3}}, {"pads", Ints{1, 1, 1, 1}}, {"count_include_pad", int64_t{1}}});
  b.node("GlobalAveragePool", {"avg"}, "gap");
  b.output("block");
  b.output("gap");
  const Ops ops = b.optimized_ops(3, GetParam());
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "NchwcPointwiseDepthwise"), 2);  // both blocks
  expect_level_3_matches_level_0(b);
}

// Elementwise ops on NCHWc values between convolutions, and one (Div) that must go back to NCHW.
TEST_P(NchwcLayoutEndToEnd, ElementwiseOpsBetweenConvs) {
  GraphBuilder b;
  b.input("x", random_tensor({1, 17, 7, 9}, 80));
  b.constant("w", random_tensor({17, 17, 3, 3}, 81, -0.2f, 0.2f));
  b.constant("half", Tensor::scalar(0.5f));
  b.node("Conv", {"x", "w"}, "c", kPad1);  // two readers: no activation is fused into it
  b.node("Sigmoid", {"c"}, "s");
  b.node("Mul", {"half", "c"}, "m");
  b.node("Sub", {"s", "m"}, "diff");
  b.node("Tanh", {"diff"}, "t");
  b.node("Div", {"t", "half"}, "divided");
  b.node("Conv", {"t", "w"}, "c2", kPad1);
  b.node("LeakyRelu", {"c2"}, "y", {{"alpha", 0.1f}});
  b.output("divided");
  b.output("y");
  expect_level_3_matches_level_0(b);
}

// A network's stem as exported: an RGB convolution read in place, ReLU6 whose bounds are Constant
// nodes (nodes without inputs, left dead after the fusion), max pooling, a 1x1 convolution.
TEST_P(NchwcLayoutEndToEnd, RgbStemWithConstantNodes) {
  GraphBuilder b;
  b.input("image", random_tensor({2, 3, 19, 18}, 90));
  b.constant("stem", random_tensor({24, 3, 7, 7}, 91, -0.2f, 0.2f));
  b.constant("stem_b", random_tensor({24}, 92));
  b.constant("pw", random_tensor({40, 24, 1, 1}, 93, -0.3f, 0.3f));
  b.node("Constant", {}, "lo", {{"value", Tensor::scalar(0.f)}});
  b.node("Constant", {}, "hi", {{"value", Tensor::scalar(6.f)}});
  b.node("Conv", {"image", "stem", "stem_b"}, "c", {{"strides", Ints{2, 2}}, {"pads", Ints{3, 3, 3, 3}}});
  b.node("Clip", {"c", "lo", "hi"}, "c6");
  b.node("MaxPool", {"c6"}, "pool", {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}});
  b.node("Conv", {"pool", "pw"}, "y");
  b.output("y");
  const Ops ops = b.optimized_ops(3, GetParam());
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "NchwcReorderInput"), 0);
  expect_level_3_matches_level_0(b);
}

// A residual that broadcasts over channels (a one-channel plane) keeps its convolution in NCHW; a
// constant with every channel is reordered with it; a residual that is the convolution's own
// input rides on that input's reorder; a per-channel constant becomes the convolution's bias at
// level 1, which lets it be laid out.
TEST_P(NchwcLayoutEndToEnd, ResidualsOfEveryShape) {
  GraphBuilder b;
  b.input("x", random_tensor({1, 16, 6, 7}, 110));
  b.input("plane", random_tensor({1, 1, 6, 7}, 111));
  b.constant("per_channel", random_tensor({16, 1, 1}, 113));
  b.constant("full", random_tensor({1, 16, 1, 7}, 114));
  const char* residuals[] = {"plane", "per_channel", "full", "x"};
  uint32_t seed = 115;
  for (const char* z : residuals) {
    const std::string c = std::string("c_") + z, y = std::string("y_") + z, w = std::string("w_") + z;
    // Weights of its own: equal convolutions of x would be one after level 1.
    b.constant(w, random_tensor({16, 16, 3, 3}, seed++, -0.2f, 0.2f));
    b.node("Conv", {"x", w}, c, kPad1);
    b.node("Add", {c, z}, y);
    b.output(y);
  }
  const ir::Model m = laid_out(b);
  for (const char* z : residuals) {
    const bool blocked = std::string(z) != "plane";
    EXPECT_EQ(producer(m, std::string("y_") + z).op_type, blocked ? "NchwcReorderOutput" : "FusedConv") << z;
  }
  expect_level_3_matches_level_0(b);
}

KILN_INSTANTIATE_LEVEL_SWEEP(NchwcLayoutEndToEnd);

}  // namespace
}  // namespace kiln
