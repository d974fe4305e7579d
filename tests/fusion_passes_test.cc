// The level-2 fusion passes: what they fuse, what they must leave alone, and that the optimized
// graph computes what the original does.
#include <gtest/gtest.h>

#include "graph_builder.h"

namespace kiln {
namespace {

using testing::GraphBuilder;
using testing::random_tensor;

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
  b.expect_matches_unoptimized(2, 1e-5);
}

TEST(FusionPasses, ResidualThatWidensTheResultStillMatches) {
  // Conv's [1, 6, 9, 9] result plus a [2, 6, 9, 9] shortcut is [2, 6, 9, 9]: the fused op must
  // broadcast the convolution, not the shortcut.
  residual_block(random_tensor({2, 6, 9, 9}, 5)).expect_matches_unoptimized(2, 1e-5);
  residual_block(random_tensor({6, 1, 1}, 6)).expect_matches_unoptimized(2, 1e-5);
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
  EXPECT_EQ(b.optimized_ops(2), (std::vector<std::string>{"FusedConv", "Flatten", "FusedGemm"}));
  b.expect_matches_unoptimized(2, 1e-5);
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
  b.expect_matches_unoptimized(2, 1e-5);
}

TEST(FusionPasses, LevelOutOfRangeIsAnError) {
  GraphBuilder b = residual_block(random_tensor({1, 6, 9, 9}, 12));
  EXPECT_THROW(passes::optimize(b.model, {4, CpuLevel::Scalar}), Error);
}

}  // namespace
}  // namespace kiln
