// The level-2 fusion passes: what they fuse, what they must leave alone, and that the optimized
// graph computes what the original does.
#include <gtest/gtest.h>

#include "passes/pass_manager.h"
#include "runtime/plan.h"
#include "test_util.h"

namespace kiln {
namespace {

using testing::random_tensor;

// A graph under construction: float inputs fed at run time, initializers, nodes and outputs.
struct GraphBuilder {
  ir::Model model;
  std::map<std::string, Tensor> feeds;

  GraphBuilder() { model.opset_imports[""] = 17; }
  void input(const std::string& name, const Tensor& value) {
    ir::Value v{name, DType::Float32, std::vector<ir::Dim>{}};
    for (int64_t d : value.shape()) v.shape->push_back({d, {}});
    model.graph.inputs.push_back(v);
    feeds[name] = value;
  }
  void constant(const std::string& name, const Tensor& value) { model.graph.initializers[name] = value; }
  void node(const std::string& op, std::vector<std::string> inputs, const std::string& output,
            std::map<std::string, ir::Attribute> attributes = {}) {
    model.graph.nodes.push_back({output + "_node", op, "", std::move(inputs), {output}, std::move(attributes)});
  }
  void output(const std::string& name) { model.graph.outputs.push_back({name, DType::Float32, std::nullopt}); }

  std::vector<Tensor> run(int level) const {
    SessionOptions options;
    options.optimization_level = level;
    runtime::Plan plan(model, options);
    std::vector<std::string> names;
    for (const auto& o : model.graph.outputs) names.push_back(o.name);
    return plan.run(feeds, names);
  }
  std::vector<std::string> optimized_ops(int level) const {
    ir::Model copy = model;
    passes::optimize(copy, level);
    std::vector<std::string> ops;
    for (const auto& n : copy.graph.nodes) ops.push_back(n.op_type);
    return ops;
  }
  void expect_same_outputs_at_levels_0_and_2() const {
    const auto unoptimized = run(0), optimized = run(2);
    ASSERT_EQ(unoptimized.size(), optimized.size());
    for (size_t i = 0; i < optimized.size(); ++i) testing::expect_tensor_near(optimized[i], unoptimized[i], 1e-5, 1e-5);
  }
};

const std::map<std::string, ir::Attribute> kPad1 = {{"pads", std::vector<int64_t>{1, 1, 1, 1}}};

// x -> Conv -> Add(shortcut) -> Relu, ResNet's basic block tail.
GraphBuilder residual_block(const Tensor& shortcut) {
  GraphBuilder b;
  b.input("x", random_tensor({1, 4, 9, 9}, 1));
  b.input("shortcut", shortcut);
  b.constant("w", random_tensor({6, 4, 3, 3}, 2));
  b.constant("b", random_tensor({6}, 3));
  b.node("Conv", {"x", "w", "b"}, "conv", kPad1);
  b.node("Add", {"shortcut", "conv"}, "sum");
  b.node("Relu", {"sum"}, "y");
  b.output("y");
  return b;
}

TEST(FusionPasses, ConvAddReluBecomesOneFusedConv) {
  const GraphBuilder b = residual_block(random_tensor({1, 6, 9, 9}, 4));
  EXPECT_EQ(b.optimized_ops(2), std::vector<std::string>{"FusedConv"});
  EXPECT_EQ(b.optimized_ops(1), (std::vector<std::string>{"Conv", "Add", "Relu"}));
  b.expect_same_outputs_at_levels_0_and_2();
}

TEST(FusionPasses, ResidualThatWidensTheResultStillMatches) {
  // Conv's [1, 6, 9, 9] result plus a [2, 6, 9, 9] shortcut is [2, 6, 9, 9]: the fused op must
  // broadcast the convolution, not the shortcut.
  residual_block(random_tensor({2, 6, 9, 9}, 5)).expect_same_outputs_at_levels_0_and_2();
  residual_block(random_tensor({6, 1, 1}, 6)).expect_same_outputs_at_levels_0_and_2();
}

TEST(FusionPasses, ClipWithConstantBoundsAndGemmActivationsFuse) {
  GraphBuilder b;
  b.input("x", random_tensor({1, 3, 8, 8}, 7));
  b.constant("w", random_tensor({5, 3, 1, 1}, 8));
  b.constant("lo", Tensor::scalar(0.f));
  // PyTorch exports ReLU6's bounds as Constant nodes rather than initializers.
  b.node("Constant", {}, "hi", {{"value", Tensor::scalar(0.3f)}});
  b.node("Conv", {"x", "w"}, "conv");
  b.node("Clip", {"conv", "lo", "hi"}, "clipped");
  b.node("Flatten", {"clipped"}, "flat");
  b.constant("fc", random_tensor({320, 10}, 9));
  b.node("Gemm", {"flat", "fc"}, "logits");
  b.node("LeakyRelu", {"logits"}, "y", {{"alpha", 0.3f}});
  b.output("y");
  EXPECT_EQ(b.optimized_ops(2), (std::vector<std::string>{"Constant", "FusedConv", "Flatten", "FusedGemm"}));
  b.expect_same_outputs_at_levels_0_and_2();
}

TEST(FusionPasses, LeavesAloneWhatItCannotFuse) {
  GraphBuilder b;
  b.input("x", random_tensor({1, 2, 6, 6}, 10));
  b.input("hi", Tensor::scalar(0.5f));
  b.constant("w", random_tensor({2, 2, 3, 3}, 11));
  b.node("Conv", {"x", "w"}, "shared", kPad1);
  b.node("Relu", {"shared"}, "relu");  // "shared" has two readers: fusing would lose one
  b.node("Sigmoid", {"shared"}, "sig");
  b.node("Conv", {"relu", "w"}, "observed", kPad1);
  b.node("Relu", {"observed"}, "after");  // "observed" is a graph output: it must stay visible
  b.node("Conv", {"sig", "w"}, "clip_input", kPad1);
  b.node("Clip", {"clip_input", "", "hi"}, "clipped");  // a run-time bound cannot go in an epilogue
  b.output("observed");
  b.output("after");
  b.output("clipped");
  EXPECT_EQ(b.optimized_ops(2), (std::vector<std::string>{"Conv", "Relu", "Sigmoid", "Conv", "Relu", "Conv", "Clip"}));
  b.expect_same_outputs_at_levels_0_and_2();
}

TEST(FusionPasses, LevelOutOfRangeIsAnError) {
  GraphBuilder b = residual_block(random_tensor({1, 6, 9, 9}, 12));
  EXPECT_THROW(passes::optimize(b.model, 4), Error);
}

}  // namespace
}  // namespace kiln
