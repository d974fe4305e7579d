// The level-1 passes: what each rewrites, what it must leave alone, and that the optimized graph
// computes what the original does; and the pass manager's reports and disabled passes.
#include <gtest/gtest.h>

#include <algorithm>

#include "graph_builder.h"

namespace kiln {
namespace {

using testing::GraphBuilder;
using testing::random_tensor;
using Ops = std::vector<std::string>;
using Ints = std::vector<int64_t>;

const ir::Node& producer_of(const ir::Model& m, const std::string& value) {
  for (const ir::Node& n : m.graph.nodes)
    if (std::find(n.outputs.begin(), n.outputs.end(), value) != n.outputs.end()) return n;
  throw std::runtime_error("no node writes " + value);
}

TEST(FoldConstants, ChainsOfConstantsBecomeOneInitializer) {
  GraphBuilder b;
  b.input("x", random_tensor({2, 3}, 1));
  b.node("Constant", {}, "c", {{"value", random_tensor({3}, 2)}});
  b.constant("d", random_tensor({3}, 3));
  b.node("Add", {"c", "d"}, "cd");
  b.node("Exp", {"cd"}, "e");
  b.node("Mul", {"x", "e"}, "y");
  b.output("y");
  EXPECT_EQ(b.optimized_ops(1), Ops{"Mul"});
  const ir::Model m = b.optimized(1);
  EXPECT_EQ(m.graph.initializers.size(), 1u);  // c and d were read only by the folded Add
  b.expect_matches_unoptimized(1, 0);
}

TEST(FoldConstants, LeavesRandomLargeObservedAndRejectedNodes) {
  GraphBuilder b;
  b.input("x", random_tensor({4}, 4));
  b.node("RandomUniform", {}, "noise", {{"shape", Ints{4}}, {"dtype", int64_t{1}}});
  // 5M floats (20 MB) from 8 bytes: cheaper to make at run time than to keep.
  b.constant("big_shape", Tensor::from_vector<int64_t>({1}, {5 << 20}));
  b.node("ConstantOfShape", {"big_shape"}, "big");
  b.node("ReduceSum", {"big"}, "big_sum", {{"keepdims", int64_t{0}}});
  b.constant("small_shape", Tensor::from_vector<int64_t>({1}, {4}));
  b.node("ConstantOfShape", {"small_shape"}, "small", {{"value", Tensor::from_vector<float>({1}, {2.f})}});
  b.constant("two", Tensor::from_vector<float>({2}, {1.f, 2.f}));
  b.constant("three", Tensor::from_vector<float>({3}, {1.f, 2.f, 3.f}));
  b.node("Add", {"two", "three"}, "mismatch");  // rejected by its kernel: the run reports it
  b.node("Neg", {"mismatch"}, "after_mismatch");
  b.node("Neg", {"two"}, "observed");  // a graph output keeps its node
  b.node("Add", {"x", "small"}, "y");
  b.output("noise");
  b.output("big_sum");
  b.output("after_mismatch");
  b.output("observed");
  b.output("y");
  EXPECT_EQ(b.optimized_ops(1), (Ops{"RandomUniform", "ConstantOfShape", "ReduceSum", "Add", "Neg", "Neg", "Add"}));
  const ir::Model m = b.optimized(1);
  EXPECT_EQ(producer_of(m, "y").inputs[1], "small");
  EXPECT_TRUE(m.graph.initializers.count("small"));
}

TEST(EliminateDeadCode, RemovesUnreadNodesAndInitializers) {
  GraphBuilder b;
  b.input("x", random_tensor({3, 4}, 5));
  b.constant("unused", random_tensor({4}, 6));
  b.constant("w", random_tensor({4}, 7));
  b.node("Mul", {"x", "w"}, "dead");
  b.node("Relu", {"dead"}, "dead_too");
  b.node("Split", {"x"}, "top", {{"axis", int64_t{0}}, {"num_outputs", int64_t{3}}}).outputs = {"top", "mid", "low"};
  b.node("Neg", {"mid"}, "y");  // one of Split's outputs is read: the Split stays
  b.output("y");
  b.model.opset_imports[""] = 18;
  EXPECT_EQ(b.optimized_ops(1), (Ops{"Split", "Neg"}));
  EXPECT_TRUE(b.optimized(1).graph.initializers.empty());
  b.expect_matches_unoptimized(1, 0);
}

TEST(EliminateNoOps, IdentityDropoutSameTypeCastAndIdentityTranspose) {
  GraphBuilder b;
  b.input("x", random_tensor({2, 3}, 8));
  b.node("Identity", {"x"}, "a");
  b.node("Dropout", {"a"}, "b");
  b.node("Cast", {"b"}, "c", {{"to", int64_t{1}}});  // float to float
  b.node("Transpose", {"c"}, "d", {{"perm", Ints{0, 1}}});
  b.node("Relu", {"d"}, "r");
  b.node("Identity", {"r"}, "y");  // a graph output: Relu is renamed to write "y"
  b.node("Cast", {"x"}, "as_int", {{"to", int64_t{6}}});
  b.output("y");
  b.output("as_int");
  const ir::Model m = b.optimized(1);
  EXPECT_EQ(b.optimized_ops(1), (Ops{"Relu", "Cast"}));
  EXPECT_EQ(producer_of(m, "y").op_type, "Relu");
  EXPECT_EQ(producer_of(m, "y").inputs[0], "x");
  b.expect_matches_unoptimized(1, 0);
}

TEST(EliminateNoOps, KeepsWhatIsObservedOrNotANoOp) {
  GraphBuilder b;
  b.input("x", random_tensor({2, 3}, 9));
  b.node("Identity", {"x"}, "y");  // graph input to graph output: both names must stay
  b.node("Dropout", {"x"}, "d").outputs = {"d", "mask"};  // its mask is read
  b.node("Not", {"mask"}, "not_mask");
  b.node("Cast", {"not_mask"}, "mask_f", {{"to", int64_t{1}}});
  b.node("Add", {"d", "mask_f"}, "sum");
  b.node("Transpose", {"sum"}, "t", {{"perm", Ints{1, 0}}});
  b.output("y");
  b.output("t");
  EXPECT_EQ(b.optimized_ops(1), (Ops{"Identity", "Dropout", "Not", "Cast", "Add", "Transpose"}));
  b.expect_matches_unoptimized(1, 0);
}

TEST(CancelTransposes, PairsCancelOrCompose) {
  GraphBuilder b;
  b.input("x", random_tensor({2, 3, 4}, 10));
  b.node("Transpose", {"x"}, "t1", {{"perm", Ints{0, 2, 1}}});
  b.node("Transpose", {"t1"}, "back", {{"perm", Ints{0, 2, 1}}});
  b.node("Relu", {"back"}, "r");
  b.node("Transpose", {"r"}, "t2", {{"perm", Ints{1, 0, 2}}});
  b.node("Transpose", {"t2"}, "y", {{"perm", Ints{2, 0, 1}}});
  b.output("y");
  const ir::Model m = b.optimized(1);
  EXPECT_EQ(b.optimized_ops(1), (Ops{"Relu", "Transpose"}));
  EXPECT_EQ(producer_of(m, "r").inputs[0], "x");
  EXPECT_EQ(std::get<Ints>(producer_of(m, "y").attributes.at("perm")), (Ints{2, 1, 0}));
  b.expect_matches_unoptimized(1, 0);
}

TEST(CancelTransposes, AnInnerTransposeWithAnotherReaderStays) {
  GraphBuilder b;
  b.input("x", random_tensor({2, 3}, 11));
  b.node("Transpose", {"x"}, "t", {{"perm", Ints{1, 0}}});
  b.node("Transpose", {"t"}, "back", {{"perm", Ints{1, 0}}});
  b.node("Relu", {"t"}, "rt");
  b.output("back");
  b.output("rt");
  EXPECT_EQ(b.optimized_ops(1), (Ops{"Transpose", "Transpose", "Relu"}));
}

TEST(EliminateCommonSubexpressions, EqualNodesAndEqualConstantsMerge) {
  GraphBuilder b;
  b.input("x", random_tensor({3, 5}, 12));
  b.constant("half", Tensor::scalar(0.5f));
  b.constant("also_half", Tensor::scalar(0.5f));
  b.node("Mul", {"x", "half"}, "m1");
  b.node("Mul", {"x", "also_half"}, "m2");
  b.node("Relu", {"m1"}, "r1");
  b.node("Relu", {"m2"}, "r2");  // equal once m2 is m1: merges in the same round
  b.node("LeakyRelu", {"x"}, "l1", {{"alpha", 0.1f}});
  b.node("LeakyRelu", {"x"}, "l2", {{"alpha", 0.2f}});  // another attribute: stays
  b.node("Add", {"r1", "r2"}, "s");
  b.node("Add", {"l1", "l2"}, "t");
  b.node("Add", {"s", "t"}, "y");
  b.output("y");
  EXPECT_EQ(b.optimized_ops(1), (Ops{"Mul", "Relu", "LeakyRelu", "LeakyRelu", "Add", "Add", "Add"}));
  b.expect_matches_unoptimized(1, 0);
}

TEST(EliminateCommonSubexpressions, RandomOpsAndGraphOutputsStay) {
  GraphBuilder b;
  b.input("x", random_tensor({4}, 13));
  b.node("RandomNormalLike", {"x"}, "n1");
  b.node("RandomNormalLike", {"x"}, "n2");
  b.node("Neg", {"x"}, "y1");
  b.node("Neg", {"x"}, "y2");  // both are graph outputs: neither can be dropped
  b.output("n1");
  b.output("n2");
  b.output("y1");
  b.output("y2");
  EXPECT_EQ(b.optimized_ops(1), (Ops{"RandomNormalLike", "RandomNormalLike", "Neg", "Neg"}));
}

GraphBuilder conv_into(const std::string& op, const Tensor& constant, bool constant_first = false) {
  GraphBuilder b;
  b.input("x", random_tensor({1, 3, 7, 6}, 14));
  b.constant("w", random_tensor({4, 3, 3, 3}, 15));
  b.constant("bias", random_tensor({4}, 16));
  b.constant("c", constant);
  b.node("Conv", {"x", "w", "bias"}, "conv", {{"pads", Ints{1, 1, 1, 1}}});
  b.node(op, constant_first ? std::vector<std::string>{"c", "conv"} : std::vector<std::string>{"conv", "c"}, "y");
  b.output("y");
  return b;
}

TEST(FoldConvScaleBias, PerChannelAndScalarConstantsFold) {
  for (const char* op : {"Mul", "Div", "Add", "Sub"})
    for (const Tensor& c : {random_tensor({4, 1, 1}, 17, 0.5f, 2.f), random_tensor({1, 4, 1, 1}, 18, 0.5f, 2.f),
                            Tensor::scalar(1.5f), random_tensor({1}, 19, 0.5f, 2.f)}) {
      SCOPED_TRACE(::testing::Message() << op << " by " << shape_to_string(c.shape()));
      const GraphBuilder b = conv_into(op, c);
      EXPECT_EQ(b.optimized_ops(1), Ops{"Conv"});
      b.expect_matches_unoptimized(1, 1e-5);
    }
  const GraphBuilder mul_first = conv_into("Mul", random_tensor({4, 1, 1}, 20), true);
  EXPECT_EQ(mul_first.optimized_ops(1), Ops{"Conv"});
  mul_first.expect_matches_unoptimized(1, 1e-5);
}

TEST(FoldConvScaleBias, LeavesWhatIsNotPerChannel) {
  EXPECT_EQ(conv_into("Sub", Tensor::scalar(1.f), true).optimized_ops(1), (Ops{"Conv", "Sub"}));
  EXPECT_EQ(conv_into("Div", Tensor::from_vector<float>({4, 1, 1}, {1, 0, 2, 3})).optimized_ops(1), (Ops{"Conv", "Div"}));
  EXPECT_EQ(conv_into("Mul", random_tensor({1, 1, 7, 6}, 21)).optimized_ops(1), (Ops{"Conv", "Mul"}));  // varies per pixel
  EXPECT_EQ(conv_into("Add", random_tensor({2, 4, 1, 1}, 22)).optimized_ops(1), (Ops{"Conv", "Add"}));  // widens the batch
  EXPECT_EQ(conv_into("Add", random_tensor({4}, 23)).optimized_ops(1), (Ops{"Conv", "Add"}));  // along the width
}

TEST(FoldConvBatchNorm, InferenceBatchNormFoldsIntoConv) {
  for (bool with_bias : {true, false}) {
    GraphBuilder b;
    b.input("x", random_tensor({2, 3, 6, 5}, 24));
    b.constant("w", random_tensor({4, 3, 3, 3}, 25));
    b.constant("bias", random_tensor({4}, 26));
    b.constant("gamma", random_tensor({4}, 27));
    b.constant("beta", random_tensor({4}, 28));
    b.constant("mean", random_tensor({4}, 29));
    b.constant("var", random_tensor({4}, 30, 0.1f, 2.f));
    b.node("Conv", with_bias ? std::vector<std::string>{"x", "w", "bias"} : std::vector<std::string>{"x", "w"}, "conv");
    b.node("BatchNormalization", {"conv", "gamma", "beta", "mean", "var"}, "bn", {{"epsilon", 1e-3f}});
    b.node("Relu", {"bn"}, "y");
    b.output("y");
    EXPECT_EQ(b.optimized_ops(1), (Ops{"Conv", "Relu"}));
    EXPECT_EQ(b.optimized_ops(2), Ops{"FusedConv"});
    b.expect_matches_unoptimized(1, 1e-5);
    b.expect_matches_unoptimized(3, 1e-4);
  }
}

TEST(FoldConvBatchNorm, SharedWeightsKeepTheirOtherReader) {
  GraphBuilder b;
  b.input("x", random_tensor({1, 3, 5, 5}, 31));
  b.constant("w", random_tensor({3, 3, 1, 1}, 32));
  for (const char* s : {"gamma", "beta", "mean"}) b.constant(s, random_tensor({3}, 33));
  b.constant("var", random_tensor({3}, 34, 0.5f, 1.f));
  b.node("Conv", {"x", "w"}, "conv");
  b.node("BatchNormalization", {"conv", "gamma", "beta", "mean", "var"}, "bn");
  b.node("Conv", {"bn", "w"}, "y");  // reads the original weights
  b.output("y");
  EXPECT_EQ(b.optimized_ops(1), (Ops{"Conv", "Conv"}));
  b.expect_matches_unoptimized(1, 1e-5);
}

TEST(FoldMatMulScale, ScalarAndPerColumnScalesFoldIntoTheWeights) {
  for (const char* op : {"Mul", "Div"})
    for (const Tensor& c : {Tensor::scalar(0.125f), random_tensor({6}, 40, 0.5f, 2.f), random_tensor({1}, 41, 0.5f, 2.f)}) {
      SCOPED_TRACE(::testing::Message() << op << " by " << shape_to_string(c.shape()));
      GraphBuilder b;
      b.input("x", random_tensor({2, 3, 5}, 42));
      b.constant("w", random_tensor({5, 6}, 43));
      b.constant("c", c);
      b.node("MatMul", {"x", "w"}, "mm");
      b.node(op, {"mm", "c"}, "y");
      b.node("Neg", {"w"}, "w_read_elsewhere");  // W keeps its other reader
      b.output("y");
      b.output("w_read_elsewhere");
      EXPECT_EQ(b.optimized_ops(1), (Ops{"MatMul", "Neg"}));
      b.expect_matches_unoptimized(1, 1e-5);
    }
  GraphBuilder wider;
  wider.input("x", random_tensor({3, 5}, 44));
  wider.constant("w", random_tensor({5, 6}, 45));
  wider.constant("c", random_tensor({3, 1}, 46));  // varies along the rows: not a column scale
  wider.node("MatMul", {"x", "w"}, "mm");
  wider.node("Mul", {"c", "mm"}, "y");
  wider.output("y");
  EXPECT_EQ(wider.optimized_ops(1), (Ops{"MatMul", "Mul"}));
}

TEST(FoldTransposeIntoGemm, TransposedOperandsFlipTheirFlag) {
  GraphBuilder b;
  b.input("a", random_tensor({5, 3}, 35));
  b.input("bt", random_tensor({5, 4}, 36));
  b.node("Transpose", {"a"}, "at", {{"perm", Ints{1, 0}}});
  b.node("Transpose", {"bt"}, "b", {{"perm", Ints{1, 0}}});
  b.node("Gemm", {"at", "b"}, "y", {{"transB", int64_t{1}}});  // y = a^T * (bt^T)^T
  b.output("y");
  const ir::Model m = b.optimized(1);
  EXPECT_EQ(b.optimized_ops(1), Ops{"Gemm"});
  EXPECT_EQ(std::get<int64_t>(m.graph.nodes[0].attributes.at("transA")), 1);
  EXPECT_EQ(std::get<int64_t>(m.graph.nodes[0].attributes.at("transB")), 0);
  b.expect_matches_unoptimized(1, 1e-5);
}

GraphBuilder constant_chain() {
  GraphBuilder b;
  b.input("x", random_tensor({3}, 37));
  b.node("Constant", {}, "c", {{"value", random_tensor({3}, 38)}});
  b.node("Identity", {"c"}, "ci");
  b.node("Add", {"x", "ci"}, "y");
  b.output("y");
  return b;
}

TEST(PassManager, ReportsEveryPassAndSkipsDisabledOnes) {
  GraphBuilder b = constant_chain();
  ir::Model m = b.model;
  const std::vector<PassReport> report = passes::optimize(m, {1, CpuLevel::Scalar});
  const auto listing = passes::list_passes();
  const auto level_1 = std::count_if(listing.begin(), listing.end(), [](const auto& p) { return p.level == 1; });
  ASSERT_EQ(report.size(), static_cast<size_t>(level_1));
  for (const PassReport& p : report) {
    EXPECT_EQ(p.level, 1);
    EXPECT_GE(p.rounds, 1) << p.name;
  }
  EXPECT_EQ(report[0].name, "FoldConstants");
  EXPECT_EQ(report[0].changes, 2);  // Constant, then Identity of it
  ir::Model kept = b.model;
  const auto partial = passes::optimize(kept, {1, CpuLevel::Scalar, {"FoldConstants"}});
  EXPECT_TRUE(std::none_of(partial.begin(), partial.end(), [](const PassReport& p) { return p.name == "FoldConstants"; }));
  std::vector<std::string> ops;
  for (const auto& n : kept.graph.nodes) ops.push_back(n.op_type);
  EXPECT_EQ(ops, (Ops{"Constant", "Add"}));  // the Identity still goes
}

TEST(PassManager, AnUnknownPassNameIsAnError) {
  ir::Model m = constant_chain().model;
  try {
    passes::optimize(m, {3, CpuLevel::Scalar, {"FoldConstant"}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("'FoldConstant'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("FoldConstants"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kiln
