// The level-3 layout pass (passes/nchwc_layout.h): which nodes become NCHWc, where the reorders
// go, and what it must leave alone. The block follows the CPU level; these use AVX2's, 8.
#include <algorithm>

#include "graph_builder.h"

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
    if (n.op_type != "NchwcReorderOutput") EXPECT_EQ(m.graph.find_value(n.outputs[0])->dtype, DType::Float32) << n.describe();
  }
  EXPECT_EQ(m.opset("kiln"), 1);
  // The block follows the CPU level.
  EXPECT_EQ(std::get<int64_t>(resnet_stage().optimized(3, CpuLevel::Avx512).graph.nodes[0].attributes.at("block")), 16);
}

TEST(NchwcLayoutPass, OneReorderPerValueAndGraphOutputsStayNchw) {
  GraphBuilder b;
  b.input("x", random_tensor({1, 16, 6, 6}, 10));
  b.constant("w", random_tensor({16, 16, 1, 1}, 11));
  b.node("Conv", {"x", "w"}, "a");
  b.node("Relu", {"a"}, "ra");
  b.node("Conv", {"x", "w"}, "b");  // a second reader of x: the same NchwcReorderInput
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

TEST(NchwcLayoutPass, NarrowInputConvStaysNchw) {
  GraphBuilder b;
  b.input("image", random_tensor({1, 3, 8, 8}, 20));
  b.constant("w1", random_tensor({16, 3, 3, 3}, 21));
  b.constant("w2", random_tensor({16, 16, 3, 3}, 22));
  b.node("Conv", {"image", "w1"}, "c1", kPad1);
  b.node("Relu", {"c1"}, "r1");
  b.node("Conv", {"r1", "w2"}, "y", kPad1);
  b.output("y");
  const ir::Model m = laid_out(b);
  EXPECT_EQ(ops_of(m), (Ops{"FusedConv", "NchwcReorderInput", "NchwcConv", "NchwcReorderOutput"}));
  EXPECT_EQ(m.graph.nodes[1].inputs[0], "r1");
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
  passes::optimize(once, 3, CpuLevel::Avx2);
  EXPECT_EQ(ops_of(once), ops);
}

}  // namespace
}  // namespace kiln
