// The level-2 transformer fusions: LayerNorm and its residual (skip) input, GELU, and a Linear
// layer's bias and activation in the MatMul epilogue; what each fuses, what it leaves, and that
// the fused graph computes what the original does at every CPU level, on one thread and three.
#include <gtest/gtest.h>

#include "graph_builder.h"
#include "level_sweep.h"

namespace kiln {
namespace {

using testing::GraphBuilder;
using testing::random_tensor;
using Ops = std::vector<std::string>;
using Ints = std::vector<int64_t>;

// Appends LayerNorm over the last axis of `x` as PyTorch exports it at opset 14, writing `y`.
// `square_by_mul` writes the square as Mul(d, d); `axes_input` gives ReduceMean its axes as an
// input (opset 18).
void add_decomposed_layer_norm(GraphBuilder& b, const std::string& x, const std::string& y, int64_t width,
                               bool square_by_mul = false, bool axes_input = false) {
  b.constant(y + "_gamma", random_tensor({width}, 50));
  b.constant(y + "_beta", random_tensor({width}, 51));
  b.constant(y + "_two", Tensor::scalar(2.f));
  b.constant(y + "_eps", Tensor::scalar(1e-5f));
  b.constant(y + "_axes", Tensor::from_vector<int64_t>({1}, {-1}));
  const auto mean_of = [&](const std::string& in, const std::string& out) {
    if (axes_input)
      b.node("ReduceMean", {in, y + "_axes"}, out);
    else
      b.node("ReduceMean", {in}, out, {{"axes", Ints{-1}}});
  };
  mean_of(x, y + "_mean");
  b.node("Sub", {x, y + "_mean"}, y + "_d");
  if (square_by_mul)
    b.node("Mul", {y + "_d", y + "_d"}, y + "_sq");
  else
    b.node("Pow", {y + "_d", y + "_two"}, y + "_sq");
  mean_of(y + "_sq", y + "_var");
  b.node("Add", {y + "_var", y + "_eps"}, y + "_ve");
  b.node("Sqrt", {y + "_ve"}, y + "_std");
  b.node("Div", {y + "_d", y + "_std"}, y + "_n");
  b.node("Mul", {y + "_n", y + "_gamma"}, y + "_scaled");
  b.node("Add", {y + "_scaled", y + "_beta"}, y);
}

class TransformerFusion : public testing::LevelSweep {
 protected:
  void expect_fused_matches(const GraphBuilder& b, double tolerance) const {
    for (int threads : {1, 3}) b.expect_matches_unoptimized(2, tolerance, GetParam(), threads);
  }
};

TEST_P(TransformerFusion, DecomposedLayerNormBecomesOneNode) {
  for (bool square_by_mul : {false, true}) {
    GraphBuilder b;
    b.input("x", random_tensor({2, 5, 24}, 52, -3.f, 3.f));
    add_decomposed_layer_norm(b, "x", "y", 24, square_by_mul);
    b.output("y");
    EXPECT_EQ(b.optimized_ops(2), Ops{"LayerNormalization"});
    EXPECT_EQ(b.optimized(2).graph.nodes[0].domain, "kiln");
    EXPECT_EQ(b.optimized_ops(1).size(), 9u);  // a level-2 fusion
    expect_fused_matches(b, 1e-5);
  }
  GraphBuilder opset_18;
  opset_18.model.opset_imports[""] = 18;
  opset_18.input("x", random_tensor({3, 17}, 53));
  add_decomposed_layer_norm(opset_18, "x", "y", 17, false, true);
  opset_18.output("y");
  EXPECT_EQ(opset_18.optimized_ops(2), Ops{"LayerNormalization"});
  expect_fused_matches(opset_18, 1e-5);
}

TEST_P(TransformerFusion, LayerNormThatIsNotOneIsLeft) {
  GraphBuilder b;
  b.input("x", random_tensor({4, 6}, 54));
  add_decomposed_layer_norm(b, "x", "y", 6);
  b.output("y");
  b.output("y_d");  // an intermediate is observed: the LayerNorm cannot go...
  // ...but what follows the centring is an RMSNorm of it, which fuses.
  EXPECT_EQ(b.optimized_ops(2), (Ops{"ReduceMean", "Sub", "RMSNormalization", "Add"}));
  expect_fused_matches(b, 1e-5);

  GraphBuilder over_rows;
  over_rows.input("x", random_tensor({4, 6}, 55));
  add_decomposed_layer_norm(over_rows, "x", "y", 6);
  for (ir::Node& n : over_rows.model.graph.nodes)
    if (n.op_type == "ReduceMean") n.attributes["axes"] = Ints{0};  // not the last axis
  over_rows.output("y");
  EXPECT_EQ(over_rows.optimized_ops(2).size(), 9u);
}

TEST_P(TransformerFusion, ResidualBeforeLayerNormBecomesItsSkipInput) {
  // The skip of the same shape (a residual), one that broadcasts over the leading dims (position
  // embeddings), and one that widens the sum.
  const std::pair<Shape, Shape> shapes[] = {{{2, 5, 16}, {2, 5, 16}}, {{2, 5, 16}, {5, 16}}, {{5, 16}, {3, 5, 16}}};
  uint32_t seed = 56;
  for (const auto& [x_shape, skip_shape] : shapes) {
    SCOPED_TRACE(::testing::Message() << shape_to_string(x_shape) << " + " << shape_to_string(skip_shape));
    GraphBuilder b;
    b.input("x", random_tensor(x_shape, seed++));
    b.input("skip", random_tensor(skip_shape, seed++));
    b.node("Add", {"x", "skip"}, "sum");
    add_decomposed_layer_norm(b, "sum", "y", 16);
    b.output("y");
    const ir::Model m = b.optimized(2);
    ASSERT_EQ(m.graph.nodes.size(), 1u);
    EXPECT_EQ(m.graph.nodes[0].inputs, (std::vector<std::string>{"x", "y_gamma", "y_beta", "skip"}));
    expect_fused_matches(b, 1e-5);
  }
}

// Appends GELU of `x` in one of the three groupings exporters write, writing `y`.
void add_decomposed_gelu(GraphBuilder& b, const std::string& x, const std::string& y, int form) {
  b.constant("sqrt2", Tensor::scalar(1.4142135f));
  b.constant("one", Tensor::scalar(1.f));
  b.constant("half", Tensor::scalar(0.5f));
  b.node("Div", {x, "sqrt2"}, y + "_scaled");
  b.node("Erf", {y + "_scaled"}, y + "_erf");
  b.node("Add", {y + "_erf", "one"}, y + "_a");
  if (form == 0) {
    b.node("Mul", {x, y + "_a"}, y + "_xa");
    b.node("Mul", {y + "_xa", "half"}, y);
  } else if (form == 1) {
    b.node("Mul", {x, "half"}, y + "_hx");
    b.node("Mul", {y + "_hx", y + "_a"}, y);
  } else {
    b.node("Mul", {y + "_a", "half"}, y + "_ha");
    b.node("Mul", {x, y + "_ha"}, y);
  }
}

TEST_P(TransformerFusion, GeluInEachGroupingBecomesOneNode) {
  for (int form : {0, 1, 2}) {
    SCOPED_TRACE(::testing::Message() << "form " << form);
    GraphBuilder b;
    b.input("x", random_tensor({3, 1031}, 60, -5.f, 5.f));
    add_decomposed_gelu(b, "x", "y", form);
    b.output("y");
    EXPECT_EQ(b.optimized_ops(2), Ops{"Gelu"});
    expect_fused_matches(b, 1e-6);
  }
  GraphBuilder not_gelu;
  not_gelu.input("x", random_tensor({8}, 61));
  add_decomposed_gelu(not_gelu, "x", "y", 0);
  not_gelu.model.graph.initializers["half"] = Tensor::scalar(0.25f);
  not_gelu.output("y");
  EXPECT_EQ(not_gelu.optimized_ops(2).size(), 5u);
}

// Appends GELU's tanh form of `x`, writing `y`: Hugging Face's GPT-2 (x^3 as Pow) or PyTorch's
// export of gelu(approximate="tanh") (x^3 as x * (x * x), constants first).
void add_tanh_gelu(GraphBuilder& b, const std::string& x, const std::string& y, bool cube_by_pow) {
  b.constant("beta", Tensor::scalar(0.7978845608f));
  b.constant("kappa", Tensor::scalar(0.044715f));
  b.constant("three", Tensor::scalar(3.f));
  b.constant("one", Tensor::scalar(1.f));
  b.constant("half", Tensor::scalar(0.5f));
  if (cube_by_pow) {
    b.node("Pow", {x, "three"}, y + "_cube");
    b.node("Mul", {y + "_cube", "kappa"}, y + "_k");
    b.node("Add", {x, y + "_k"}, y + "_s");
    b.node("Mul", {y + "_s", "beta"}, y + "_inner");
  } else {
    b.node("Mul", {x, x}, y + "_sq");
    b.node("Mul", {x, y + "_sq"}, y + "_cube");
    b.node("Mul", {"kappa", y + "_cube"}, y + "_k");
    b.node("Add", {y + "_k", x}, y + "_s");
    b.node("Mul", {"beta", y + "_s"}, y + "_inner");
  }
  b.node("Tanh", {y + "_inner"}, y + "_t");
  b.node("Add", {"one", y + "_t"}, y + "_a");
  b.node("Mul", {"half", x}, y + "_hx");
  b.node("Mul", {y + "_hx", y + "_a"}, y);
}

TEST_P(TransformerFusion, TanhGeluBecomesOneNodeAndJoinsTheMatMul) {
  for (bool cube_by_pow : {true, false}) {
    SCOPED_TRACE(::testing::Message() << "cube by Pow " << cube_by_pow);
    GraphBuilder b;
    b.input("x", random_tensor({3, 517}, 69, -5.f, 5.f));
    add_tanh_gelu(b, "x", "y", cube_by_pow);
    b.output("y");
    const ir::Model m = b.optimized(2);
    ASSERT_EQ(b.optimized_ops(2), Ops{"Gelu"});
    EXPECT_EQ(std::get<std::string>(m.graph.nodes[0].attributes.at("approximate")), "tanh");
    expect_fused_matches(b, 1e-6);

    GraphBuilder linear;
    linear.input("x", random_tensor({2, 7, 33}, 70));
    linear.constant("w", random_tensor({33, 40}, 71));
    linear.node("MatMul", {"x", "w"}, "h");
    add_tanh_gelu(linear, "h", "y", cube_by_pow);
    linear.output("y");
    const ir::Model fused = linear.optimized(2);
    ASSERT_EQ(linear.optimized_ops(2), Ops{"FusedMatMul"});
    EXPECT_EQ(std::get<std::string>(fused.graph.nodes[0].attributes.at("activation")), "GeluTanh");
    expect_fused_matches(linear, 1e-5);
  }
  GraphBuilder wrong_constant;
  wrong_constant.input("x", random_tensor({8}, 72));
  add_tanh_gelu(wrong_constant, "x", "y", true);
  wrong_constant.model.graph.initializers["kappa"] = Tensor::scalar(0.05f);
  wrong_constant.output("y");
  EXPECT_EQ(wrong_constant.optimized_ops(2).size(), 8u);
}

TEST_P(TransformerFusion, LinearLayerBiasAndGeluJoinTheMatMul) {
  GraphBuilder b;
  b.input("x", random_tensor({2, 7, 33}, 62));
  b.constant("w", random_tensor({33, 40}, 63));
  b.constant("bias", random_tensor({40}, 64));
  b.node("MatMul", {"x", "w"}, "mm");
  b.node("Add", {"bias", "mm"}, "h");
  add_decomposed_gelu(b, "h", "y", 0);
  b.output("y");
  const ir::Model m = b.optimized(2);
  EXPECT_EQ(b.optimized_ops(2), Ops{"FusedMatMul"});
  EXPECT_EQ(std::get<std::string>(m.graph.nodes[0].attributes.at("activation")), "Gelu");
  expect_fused_matches(b, 1e-5);
}

TEST_P(TransformerFusion, TransposesOfTheLastTwoAxesFoldIntoTheMatMul) {
  GraphBuilder b;
  b.input("a", random_tensor({2, 3, 13, 7}, 80));  // read as [2, 3, 7, 13]
  b.input("c", random_tensor({2, 3, 9, 13}, 81));  // read as [2, 3, 13, 9]
  b.constant("w", random_tensor({9, 17}, 82));
  b.constant("bias", random_tensor({17}, 83));
  b.node("Transpose", {"a"}, "a_t", {{"perm", Ints{0, 1, 3, 2}}});
  b.node("Transpose", {"c"}, "c_t", {{"perm", Ints{0, 1, 3, 2}}});
  b.node("MatMul", {"a_t", "c_t"}, "ac");  // [2, 3, 7, 9]
  b.node("Transpose", {"ac"}, "ac_t", {{"perm", Ints{0, 1, 3, 2}}});
  b.node("Transpose", {"ac_t"}, "ac_tt", {{"perm", Ints{0, 1, 3, 2}}});
  b.node("Relu", {"ac_tt"}, "r");
  b.node("MatMul", {"r", "w"}, "h");
  b.node("Add", {"h", "bias"}, "y");
  b.output("y");
  const ir::Model m = b.optimized(2);
  // The Transpose pair cancels, and the Relu goes into the first product's epilogue.
  ASSERT_EQ(b.optimized_ops(2), (Ops{"FusedMatMul", "FusedMatMul"}));
  EXPECT_EQ(m.graph.nodes[0].inputs, (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(std::get<std::string>(m.graph.nodes[0].attributes.at("activation")), "Relu");
  EXPECT_EQ(std::get<int64_t>(m.graph.nodes[0].attributes.at("transA")), 1);
  EXPECT_EQ(std::get<int64_t>(m.graph.nodes[0].attributes.at("transB")), 1);
  expect_fused_matches(b, 1e-5);
}

TEST_P(TransformerFusion, TransposeThatMovesABatchAxisOrHasOtherReadersStays) {
  GraphBuilder b;
  b.input("a", random_tensor({3, 2, 5, 7}, 84));
  b.input("c", random_tensor({2, 3, 7, 4}, 85));
  b.input("d", random_tensor({2, 6, 5}, 86));
  b.node("Transpose", {"a"}, "a_t", {{"perm", Ints{1, 0, 2, 3}}});
  b.node("MatMul", {"a_t", "c"}, "y");
  b.node("Transpose", {"d"}, "d_t", {{"perm", Ints{0, 2, 1}}});
  b.node("MatMul", {"d_t", "d"}, "z");
  b.output("y");
  b.output("z");
  b.output("d_t");  // the caller reads the transpose too
  EXPECT_EQ(b.optimized_ops(2), (Ops{"Transpose", "MatMul", "Transpose", "MatMul"}));
  expect_fused_matches(b, 1e-5);
}

TEST_P(TransformerFusion, BiasThatCouldWidenTheResultStaysAnAdd) {
  GraphBuilder b;
  b.input("x", random_tensor({7, 33}, 65));
  b.constant("w", random_tensor({33, 40}, 66));
  b.constant("bias", random_tensor({1, 1, 40}, 67));  // [7, 40] + [1, 1, 40] is [1, 7, 40]
  b.node("MatMul", {"x", "w"}, "mm");
  b.node("Add", {"mm", "bias"}, "y");
  b.output("y");
  EXPECT_EQ(b.optimized_ops(2), (Ops{"MatMul", "Add"}));
  b.input("a", random_tensor({2, 7, 33}, 68));
  // B computed at run time: its column count is not known, so a bias would not fuse, but an
  // activation does.
  b.node("MatMul", {"a", "x_t"}, "runtime_b");
  b.node("Transpose", {"x"}, "x_t");
  b.node("Relu", {"runtime_b"}, "rz");
  b.output("rz");
  EXPECT_EQ(b.optimized_ops(2), (Ops{"MatMul", "Add", "FusedMatMul", "Transpose"}));
  expect_fused_matches(b, 1e-5);
}

// Appends RMSNorm of `x` over its last axis as Llama-family exports write it, writing `y`: the
// reciprocal square root as Div(1, Sqrt) (torch's rsqrt), Reciprocal(Sqrt), or a Div of x.
void add_decomposed_rms_norm(GraphBuilder& b, const std::string& x, const std::string& y, int64_t width, int form) {
  b.constant(y + "_gamma", random_tensor({width}, 70));
  b.constant(y + "_two", Tensor::scalar(2.f));
  b.constant(y + "_eps", Tensor::scalar(1e-6f));
  b.constant(y + "_one", Tensor::scalar(1.f));
  b.node("Pow", {x, y + "_two"}, y + "_sq");
  b.node("ReduceMean", {y + "_sq"}, y + "_ms", {{"axes", Ints{-1}}});
  b.node("Add", {y + "_ms", y + "_eps"}, y + "_mse");
  b.node("Sqrt", {y + "_mse"}, y + "_rms");
  if (form == 0) {
    b.node("Div", {y + "_one", y + "_rms"}, y + "_inv");
    b.node("Mul", {x, y + "_inv"}, y + "_n");
  } else if (form == 1) {
    b.node("Reciprocal", {y + "_rms"}, y + "_inv");
    b.node("Mul", {y + "_inv", x}, y + "_n");
  } else {
    b.node("Div", {x, y + "_rms"}, y + "_n");
  }
  b.node("Mul", {y + "_gamma", y + "_n"}, y);
}

TEST_P(TransformerFusion, RmsNormInEachFormBecomesOneNode) {
  for (int form : {0, 1, 2}) {
    SCOPED_TRACE(::testing::Message() << "form " << form);
    GraphBuilder b;
    b.input("x", random_tensor({2, 5, 40}, 71, -3.f, 3.f));
    add_decomposed_rms_norm(b, "x", "y", 40, form);
    b.output("y");
    EXPECT_EQ(b.optimized_ops(2), Ops{"RMSNormalization"});
    expect_fused_matches(b, 1e-5);
  }
}

// A Llama MLP: down(silu(gate(x)) * up(x)), SiLU written as x * Sigmoid(x).
TEST_P(TransformerFusion, LlamaMlpGateTakesSiluInItsEpilogue) {
  GraphBuilder b;
  b.input("x", random_tensor({1, 6, 32}, 72));
  b.constant("gate", random_tensor({32, 48}, 73, -0.3f, 0.3f));
  b.constant("up", random_tensor({32, 48}, 74, -0.3f, 0.3f));
  b.constant("down", random_tensor({48, 32}, 75, -0.3f, 0.3f));
  b.node("MatMul", {"x", "gate"}, "g");
  b.node("Sigmoid", {"g"}, "sg");
  b.node("Mul", {"sg", "g"}, "silu");
  b.node("MatMul", {"x", "up"}, "u");
  b.node("Mul", {"silu", "u"}, "h");
  b.node("MatMul", {"h", "down"}, "y");
  b.output("y");
  const ir::Model m = b.optimized(2);
  EXPECT_EQ(b.optimized_ops(2), (Ops{"FusedMatMul", "MatMul", "Mul", "MatMul"}));
  EXPECT_EQ(std::get<std::string>(m.graph.nodes[0].attributes.at("activation")), "Silu");
  expect_fused_matches(b, 1e-5);
  GraphBuilder lone;
  lone.input("x", random_tensor({300}, 76, -8.f, 8.f));
  lone.node("Sigmoid", {"x"}, "s");
  lone.node("Mul", {"x", "s"}, "y");
  lone.output("y");
  EXPECT_EQ(lone.optimized_ops(2), Ops{"Silu"});
  expect_fused_matches(lone, 1e-6);
}

KILN_INSTANTIATE_LEVEL_SWEEP(TransformerFusion);

}  // namespace
}  // namespace kiln
