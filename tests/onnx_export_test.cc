// Writing optimized models as ONNX (onnx/exporter.h, `kiln optimize`): a model optimized at each
// level, written and read back, has the same nodes and computes what the original does, with its
// fused ops in the kiln domain and its symbolic dims kept.
#include <gtest/gtest.h>

#include "graph_builder.h"
#include "onnx/exporter.h"
#include "onnx/importer.h"

namespace kiln {
namespace {

using testing::GraphBuilder;
using testing::random_tensor;

ir::Model round_trip(const ir::Model& model) {
  std::string bytes;
  EXPECT_TRUE(onnx_io::model_to_proto(model).SerializeToString(&bytes));
  return onnx_io::load_model_from_bytes(bytes.data(), bytes.size(), "");
}

GraphBuilder conv_block() {
  GraphBuilder b;
  b.input("x", random_tensor({1, 16, 8, 8}, 1));
  b.constant("w", random_tensor({16, 16, 3, 3}, 2, -0.2f, 0.2f));
  b.constant("scale", random_tensor({16}, 3));
  b.constant("shift", random_tensor({16}, 4));
  b.constant("mean", random_tensor({16}, 5));
  b.constant("var", random_tensor({16}, 6, 0.5f, 1.5f));
  b.node("Conv", {"x", "w"}, "c", {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  b.node("BatchNormalization", {"c", "scale", "shift", "mean", "var"}, "bn");
  b.node("Add", {"bn", "x"}, "sum");
  b.node("Relu", {"sum"}, "r");
  b.node("GlobalAveragePool", {"r"}, "pooled");
  b.node("Flatten", {"pooled"}, "y");
  b.output("y");
  return b;
}

TEST(OnnxExport, OptimizedModelsReadBackAndComputeTheSame) {
  const GraphBuilder b = conv_block();
  const std::vector<Tensor> expected = b.run(0);
  for (int level : {0, 1, 2, 3}) {
    SCOPED_TRACE(::testing::Message() << "level " << level);
    const ir::Model optimized = b.optimized(level);
    const ir::Model back = round_trip(optimized);
    ASSERT_EQ(back.graph.nodes.size(), optimized.graph.nodes.size());
    for (size_t i = 0; i < back.graph.nodes.size(); ++i) {
      EXPECT_EQ(back.graph.nodes[i].op_type, optimized.graph.nodes[i].op_type);
      EXPECT_EQ(back.graph.nodes[i].domain, optimized.graph.nodes[i].domain);
      EXPECT_EQ(back.graph.nodes[i].name, optimized.graph.nodes[i].name);
      EXPECT_EQ(back.graph.nodes[i].attributes.size(), optimized.graph.nodes[i].attributes.size());
    }
    EXPECT_EQ(back.opset_imports, optimized.opset_imports);
    SessionOptions unoptimized;
    unoptimized.optimization_level = 0;
    const std::vector<Tensor> actual = runtime::Plan(back, unoptimized).run(b.feeds, {"y"});
    testing::expect_tensor_near(actual[0], expected[0], 1e-4, 1e-4);
  }
  EXPECT_EQ(b.optimized(3).opset("kiln"), 1);
}

TEST(OnnxExport, SymbolicDimsAndEveryAttributeKindSurvive) {
  GraphBuilder b;
  b.input("x", random_tensor({2, 3}, 7));
  b.model.graph.inputs[0].shape = std::vector<ir::Dim>{{-1, "batch"}, {3, {}}};
  b.node("LeakyRelu", {"x"}, "l", {{"alpha", 0.25f}});
  b.node("Transpose", {"l"}, "t", {{"perm", std::vector<int64_t>{1, 0}}});
  b.node("Constant", {}, "c", {{"value_floats", std::vector<float>{1.f, 2.f}}});
  b.node("Constant", {}, "s", {{"value_string", std::string("kiln")}});
  b.output("t");
  const ir::Model back = round_trip(b.model);
  ASSERT_TRUE(back.graph.inputs[0].shape.has_value());
  EXPECT_EQ((*back.graph.inputs[0].shape)[0].symbol, "batch");
  EXPECT_EQ((*back.graph.inputs[0].shape)[1].size, 3);
  EXPECT_EQ(std::get<float>(back.graph.nodes[0].attributes.at("alpha")), 0.25f);
  EXPECT_EQ(std::get<std::vector<int64_t>>(back.graph.nodes[1].attributes.at("perm")), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(std::get<std::vector<float>>(back.graph.nodes[2].attributes.at("value_floats")), (std::vector<float>{1.f, 2.f}));
  EXPECT_EQ(std::get<std::string>(back.graph.nodes[3].attributes.at("value_string")), "kiln");
}

}  // namespace
}  // namespace kiln
