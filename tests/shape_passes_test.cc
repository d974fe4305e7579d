// The level-1 rewrites that read inferred shapes: FoldShapes, EliminateNoOps on shape-keeping
// Reshape/Expand/Slice, and ConvertMatMulToGemm; what each rewrites, what it must leave alone,
// and that the optimized graph computes what the original does.
#include <gtest/gtest.h>

#include "graph_builder.h"
#include "ir/graph_edit.h"

namespace kiln {
namespace {

using testing::GraphBuilder;
using testing::random_tensor;
using Ops = std::vector<std::string>;
using Ints = std::vector<int64_t>;

Tensor ints(const Ints& values) { return Tensor::from_vector<int64_t>({static_cast<int64_t>(values.size())}, values); }

// Input `name` fed `value`, declared with `dims` (sizes, or -1 for the symbol at that position).
void declare_input(GraphBuilder& b, const std::string& name, const Tensor& value, const std::vector<ir::Dim>& dims) {
  b.input(name, value);
  b.model.graph.inputs.back().shape = dims;
}

// BERT's head split: x [batch, seq, 768] reshaped to [batch, seq, 12, 64], the target computed
// from Shape(x) as exporters write it.
GraphBuilder bert_head_split() {
  GraphBuilder b;
  declare_input(b, "x", random_tensor({2, 5, 768}, 1), {{-1, "batch"}, {-1, "seq"}, {768, {}}});
  b.constant("zero", Tensor::scalar<int64_t>(0));
  b.constant("one", Tensor::scalar<int64_t>(1));
  b.constant("heads", ints({12}));
  b.constant("head_size", ints({64}));
  b.node("Shape", {"x"}, "shape");
  b.node("Gather", {"shape", "zero"}, "batch");
  b.node("Gather", {"shape", "one"}, "seq");
  b.node("Unsqueeze", {"batch", "axes0"}, "batch_1");
  b.node("Unsqueeze", {"seq", "axes0"}, "seq_1");
  b.constant("axes0", ints({0}));
  b.node("Concat", {"batch_1", "seq_1", "heads", "head_size"}, "target", {{"axis", int64_t{0}}});
  b.node("Reshape", {"x", "target"}, "y");
  b.output("y");
  return b;
}

TEST(FoldShapes, SymbolicDimsKeepTheShapeChainStaticOnesFoldIt) {
  GraphBuilder b = bert_head_split();
  EXPECT_EQ(b.optimized_ops(1), (Ops{"Shape", "Gather", "Gather", "Unsqueeze", "Unsqueeze", "Concat", "Reshape"}));
  ir::set_symbolic_dims(b.model.graph, {{"batch", 2}, {"seq", 5}});
  const ir::Model m = b.optimized(1);
  EXPECT_EQ(b.optimized_ops(1), Ops{"Reshape"});
  const std::string& target = m.graph.nodes[0].inputs[1];
  EXPECT_EQ(m.graph.initializers.at(target).to_int64_vector(), (Ints{2, 5, 12, 64}));
  EXPECT_EQ(ir::dims_to_string(*m.graph.find_value("y")->shape), "[2,5,12,64]");
  b.expect_matches_unoptimized(1, 0);
}

TEST(FoldShapes, AGatheredStaticDimFoldsBesideSymbolicOnes) {
  // Reshape(x, [-1, hidden]) with hidden read from x's shape: x's other dims stay symbolic.
  GraphBuilder b;
  declare_input(b, "x", random_tensor({2, 5, 24}, 2), {{-1, "batch"}, {-1, "seq"}, {24, {}}});
  b.constant("last", Tensor::scalar<int64_t>(-1));
  b.constant("minus_one", ints({-1}));
  b.constant("axes0", ints({0}));
  b.node("Shape", {"x"}, "shape");
  b.node("Gather", {"shape", "last"}, "hidden");
  b.node("Unsqueeze", {"hidden", "axes0"}, "hidden_1");
  b.node("Concat", {"minus_one", "hidden_1"}, "target", {{"axis", int64_t{0}}});
  b.node("Reshape", {"x", "target"}, "y");
  b.node("Shape", {"x"}, "observed_shape");  // a graph output keeps its node
  b.output("y");
  b.output("observed_shape");
  const ir::Model m = b.optimized(1);
  EXPECT_EQ(b.optimized_ops(1), (Ops{"Reshape", "Shape"}));
  EXPECT_EQ(m.graph.initializers.at(m.graph.nodes[0].inputs[1]).to_int64_vector(), (Ints{-1, 24}));
  EXPECT_EQ(ir::dims_to_string(*m.graph.find_value("y")->shape), "[?,24]");
  b.expect_matches_unoptimized(1, 0);
}

TEST(FoldShapes, ShapeRangesAndIndicesOutOfRange) {
  GraphBuilder b;
  b.model.opset_imports[""] = 15;
  declare_input(b, "x", random_tensor({2, 3, 4}, 3), {{-1, "n"}, {3, {}}, {4, {}}});
  b.constant("far", Tensor::scalar<int64_t>(7));
  b.node("Shape", {"x"}, "tail", {{"start", int64_t{1}}});  // [3, 4]: static
  b.node("Shape", {"x"}, "whole");
  b.node("Gather", {"whole", "far"}, "bad");  // out of range: left for the run to report
  b.node("Cast", {"tail"}, "tail_f", {{"to", int64_t{1}}});
  b.node("Cast", {"bad"}, "bad_f", {{"to", int64_t{1}}});
  b.output("tail_f");
  b.output("bad_f");
  const ir::Model m = b.optimized(1);
  EXPECT_EQ(b.optimized_ops(1), (Ops{"Shape", "Gather", "Cast", "Cast"}));
  EXPECT_EQ(m.graph.initializers.at(m.graph.nodes[2].inputs[0]).to_int64_vector(), (Ints{3, 4}));  // Cast(tail)
}

TEST(EliminateNoOps, ShapeOpsThatKeepTheStaticShape) {
  GraphBuilder b;
  b.input("x", random_tensor({2, 3}, 4));
  b.constant("same_shape", ints({2, -1}));
  b.constant("starts", ints({0, 0}));
  b.constant("ends", ints({std::numeric_limits<int64_t>::max(), 3}));
  b.node("Reshape", {"x", "same_shape"}, "r");
  b.node("Expand", {"r", "same_shape_abs"}, "e");
  b.constant("same_shape_abs", ints({1, 3}));
  b.node("Slice", {"e", "starts", "ends"}, "s");
  b.node("Flatten", {"s"}, "f");
  b.node("Relu", {"f"}, "y");
  b.output("y");
  const ir::Model m = b.optimized(1);
  EXPECT_EQ(b.optimized_ops(1), Ops{"Relu"});
  EXPECT_EQ(m.graph.nodes[0].inputs[0], "x");
  b.expect_matches_unoptimized(1, 0);
}

TEST(EliminateNoOps, ShapeOpsThatChangeTheShapeOrOrderStay) {
  GraphBuilder b;
  b.input("x", random_tensor({2, 3}, 5));
  declare_input(b, "v", random_tensor({2, 3}, 6), {{-1, "n"}, {3, {}}});
  b.constant("other_shape", ints({3, 2}));
  b.constant("wider", ints({4, 2, 3}));
  b.constant("minus_one", ints({-1}));
  b.constant("big", ints({std::numeric_limits<int64_t>::max()}));
  b.constant("small", ints({std::numeric_limits<int64_t>::min()}));
  b.constant("axis1", ints({1}));
  b.constant("shape_v", ints({0, 3}));
  b.node("Reshape", {"x", "other_shape"}, "r");
  b.node("Expand", {"x", "wider"}, "e");
  b.node("Slice", {"x", "minus_one", "small", "axis1", "minus_one"}, "reversed");  // keeps [2, 3], reversed
  b.node("Reshape", {"v", "shape_v"}, "rv");  // [n, 3] to [n, 3]: n is not known to be static
  b.output("r");
  b.output("e");
  b.output("reversed");
  b.output("rv");
  EXPECT_EQ(b.optimized_ops(1), (Ops{"Reshape", "Expand", "Slice", "Reshape"}));
  b.expect_matches_unoptimized(1, 0);
}

// y = Add(MatMul(a, w), c), a [5, 3] and w [3, 4].
GraphBuilder matmul_add(const Tensor& c, bool c_first = false) {
  GraphBuilder b;
  b.input("a", random_tensor({5, 3}, 7));
  b.constant("w", random_tensor({3, 4}, 8));
  b.constant("c", c);
  b.node("MatMul", {"a", "w"}, "mm");
  b.node("Add", c_first ? std::vector<std::string>{"c", "mm"} : std::vector<std::string>{"mm", "c"}, "y");
  b.output("y");
  return b;
}

TEST(ConvertMatMulToGemm, AConstantAddBecomesGemmsC) {
  for (const Tensor& c : {random_tensor({4}, 9), random_tensor({1, 4}, 10), random_tensor({5, 1}, 11),
                          random_tensor({5, 4}, 12), Tensor::scalar(0.5f), random_tensor({1}, 13)})
    for (bool c_first : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "C " << shape_to_string(c.shape()) << (c_first ? " first" : ""));
      const GraphBuilder b = matmul_add(c, c_first);
      const ir::Model m = b.optimized(1);
      EXPECT_EQ(b.optimized_ops(1), Ops{"Gemm"});
      EXPECT_EQ(m.graph.nodes[0].inputs, (std::vector<std::string>{"a", "w", "c"}));
      EXPECT_EQ(m.graph.nodes[0].outputs[0], "y");
      b.expect_matches_unoptimized(1, 1e-5);
    }
}

TEST(ConvertMatMulToGemm, TransposedOperandsFoldIntoGemmsFlags) {
  GraphBuilder b;
  b.input("at", random_tensor({3, 5}, 14));
  b.input("bt", random_tensor({4, 3}, 15));
  b.node("Transpose", {"at"}, "a", {{"perm", Ints{1, 0}}});
  b.node("Transpose", {"bt"}, "bm", {{"perm", Ints{1, 0}}});
  b.node("MatMul", {"a", "bm"}, "y");
  b.output("y");
  const ir::Model m = b.optimized(1);
  EXPECT_EQ(b.optimized_ops(1), Ops{"Gemm"});
  EXPECT_EQ(std::get<int64_t>(m.graph.nodes[0].attributes.at("transA")), 1);
  EXPECT_EQ(std::get<int64_t>(m.graph.nodes[0].attributes.at("transB")), 1);
  b.expect_matches_unoptimized(1, 1e-5);
}

TEST(ConvertMatMulToGemm, GemmStillTakesItsActivationAtLevel2) {
  GraphBuilder b;
  declare_input(b, "a", random_tensor({5, 3}, 16), {{-1, "batch"}, {3, {}}});
  b.constant("w", random_tensor({3, 4}, 17));
  b.constant("bias", random_tensor({4}, 18));
  b.node("MatMul", {"a", "w"}, "mm");
  b.node("Add", {"mm", "bias"}, "h");
  b.node("Relu", {"h"}, "y");
  b.output("y");
  EXPECT_EQ(b.optimized_ops(1), (Ops{"Gemm", "Relu"}));
  EXPECT_EQ(b.optimized_ops(2), Ops{"FusedGemm"});
  b.expect_matches_unoptimized(2, 1e-5);
}

TEST(ConvertMatMulToGemm, LeavesBatchedWideningAndUnfoldableMatMuls) {
  // 3-D A (a BERT projection): FuseMatMulBias takes it at level 2.
  GraphBuilder batched;
  declare_input(batched, "x", random_tensor({2, 5, 3}, 19), {{-1, "batch"}, {-1, "seq"}, {3, {}}});
  batched.constant("w", random_tensor({3, 4}, 20));
  batched.constant("bias", random_tensor({4}, 21));
  batched.node("MatMul", {"x", "w"}, "mm");
  batched.node("Add", {"mm", "bias"}, "y");
  batched.output("y");
  EXPECT_EQ(batched.optimized_ops(1), (Ops{"MatMul", "Add"}));
  EXPECT_EQ(batched.optimized_ops(2), Ops{"FusedMatMul"});
  batched.expect_matches_unoptimized(2, 1e-5);

  EXPECT_EQ(matmul_add(random_tensor({2, 5, 4}, 22)).optimized_ops(1), (Ops{"MatMul", "Add"}));  // widens
  EXPECT_EQ(matmul_add(random_tensor({3, 4}, 23)).optimized_ops(1), (Ops{"MatMul", "Add"}));     // no broadcast

  GraphBuilder plain;  // nothing for Gemm to take in, and an Add of a run-time value
  plain.input("a", random_tensor({5, 3}, 24));
  plain.input("d", random_tensor({5, 4}, 25));
  plain.constant("w", random_tensor({3, 4}, 26));
  plain.node("MatMul", {"a", "w"}, "mm");
  plain.node("Add", {"mm", "d"}, "y");
  plain.output("y");
  EXPECT_EQ(plain.optimized_ops(1), (Ops{"MatMul", "Add"}));

  GraphBuilder symbolic_rows = matmul_add(random_tensor({5, 1}, 29));  // C [M, 1] with M symbolic: it could widen Y
  symbolic_rows.model.graph.inputs[0].shape = std::vector<ir::Dim>{{-1, "m"}, {3, {}}};
  EXPECT_EQ(symbolic_rows.optimized_ops(1), (Ops{"MatMul", "Add"}));
}

}  // namespace
}  // namespace kiln
