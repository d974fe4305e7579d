// FuseQdqProducts and the DequantizeLinear folding around it: QDQ node units become QLinearConv,
// QLinearMatMul and kiln.QGemm, the fused graph computes what the unfused one does, and no
// constant weight is dequantized by a run.
#include <gtest/gtest.h>

#include <algorithm>

#include "graph_builder.h"
#include "onnx/importer.h"
#include "onnx_builder.h"
#include "core/npy.h"
#include "quant/calibration_data.h"
#include "quant/quantizer.h"

namespace kiln::testing {
namespace {

size_t count_of(const std::vector<std::string>& ops, const std::string& op) {
  return static_cast<size_t>(std::count(ops.begin(), ops.end(), op));
}

// x -> DQ -> Conv(DQ(w), DQ(b)) [-> Relu] -> Q -> DQ -> y
GraphBuilder qdq_conv(bool relu, uint8_t output_zero_point) {
  GraphBuilder b;
  b.model.opset_imports[""] = 13;
  b.input("x", random_tensor({1, 4, 6, 6}, 1, 0.f, 2.f));
  b.constant("scale", Tensor::scalar<float>(0.01f));
  b.constant("zero", Tensor::scalar<uint8_t>(0));
  b.constant("y_zero", Tensor::scalar<uint8_t>(output_zero_point));
  b.constant("out_scale", Tensor::scalar<float>(0.05f));
  Tensor w(DType::Int8, {8, 4, 3, 3});
  for (int64_t i = 0; i < w.numel(); ++i) w.data<int8_t>()[i] = static_cast<int8_t>((i * 37) % 255 - 127);
  b.constant("w", w);
  b.constant("w_scale", Tensor::from_vector<float>({8}, {0.01f, 0.02f, 0.015f, 0.01f, 0.03f, 0.01f, 0.02f, 0.01f}));
  b.constant("w_zero", Tensor::zeros(DType::Int8, {8}));
  Tensor bias(DType::Int32, {8});
  for (int64_t i = 0; i < 8; ++i) bias.data<int32_t>()[i] = static_cast<int32_t>(i * 50 - 200);
  b.constant("b", bias);
  b.constant("b_scale", Tensor::scalar<float>(0.0001f));
  b.constant("b_zero", Tensor::scalar<int32_t>(0));
  b.node("QuantizeLinear", {"x", "scale", "zero"}, "xq");
  b.node("DequantizeLinear", {"xq", "scale", "zero"}, "xd");
  b.node("DequantizeLinear", {"w", "w_scale", "w_zero"}, "wd", {{"axis", int64_t{0}}});
  b.node("DequantizeLinear", {"b", "b_scale", "b_zero"}, "bd");
  b.node("Conv", {"xd", "wd", "bd"}, "conv", {{"kernel_shape", std::vector<int64_t>{3, 3}}});
  std::string last = "conv";
  if (relu) {
    b.node("Relu", {"conv"}, "relu");
    last = "relu";
  }
  b.node("QuantizeLinear", {last, "out_scale", "y_zero"}, "yq");
  b.node("DequantizeLinear", {"yq", "out_scale", "y_zero"}, "y");
  b.output("y");
  return b;
}

TEST(FuseQdqProducts, ConvUnitBecomesQLinearConvAndComputesTheSame) {
  for (bool relu : {false, true}) {
    const GraphBuilder b = qdq_conv(relu, 0);
    const auto ops = b.optimized_ops(2);
    EXPECT_EQ(count_of(ops, "QLinearConv"), 1u) << "relu " << relu;
    EXPECT_EQ(count_of(ops, "Conv") + count_of(ops, "Relu"), 0u);
    // The bias had scale 1e-4, not x_scale * w_scale: it was re-quantized, so results agree
    // within one output step.
    b.expect_matches_unoptimized(2, 0.05 + 1e-6);
  }
}

TEST(FuseQdqProducts, KeepsAReluTheOutputQuantizationWouldNotClamp) {
  const GraphBuilder b = qdq_conv(true, 10);
  const auto ops = b.optimized_ops(2);
  EXPECT_EQ(count_of(ops, "QLinearConv"), 0u);
  EXPECT_EQ(count_of(ops, "Relu") + count_of(ops, "FusedConv"), 1u);
  // The weights no fusion took are dequantized once, at session creation.
  for (const auto& node : b.optimized(2).graph.nodes) {
    if (node.op_type == "DequantizeLinear") {
      EXPECT_NE(node.inputs[0], "w");
    }
  }
}

// DQ(a) + DQ(b) -> Q, b of a's shape (a residual), of its last dim (a bias) or a scalar, shorter
// and longer than the kernel's block, either operand first: within one output step (0.031) of the
// unfused nodes, as ONNX Runtime's arithmetic rounds values near a boundary its own way.
TEST(FuseQdqAdd, AddUnitBecomesQLinearAddWithinOneStep) {
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{2, 3, 5}, {2, 3, 5}}, {{2, 3, 5}, {5}}, {{3, 300}, {3, 300}}, {{3, 300}, {300}}, {{4, 7}, {}}};
  for (const auto& [a_shape, b_shape] : shapes)
    for (bool b_first : {false, true}) {
      GraphBuilder b;
      b.model.opset_imports[""] = 13;
      b.input("a", random_tensor(a_shape, 1, -2.f, 2.f));
      b.input("b", random_tensor(b_shape, 2, -1.f, 3.f));
      b.constant("a_scale", Tensor::scalar<float>(0.017f));
      b.constant("b_scale", Tensor::scalar<float>(0.013f));
      b.constant("y_scale", Tensor::scalar<float>(0.031f));
      b.constant("a_zero", Tensor::scalar<uint8_t>(120));
      b.constant("b_zero", Tensor::scalar<uint8_t>(77));
      b.constant("y_zero", Tensor::scalar<uint8_t>(90));
      b.node("QuantizeLinear", {"a", "a_scale", "a_zero"}, "aq");
      b.node("DequantizeLinear", {"aq", "a_scale", "a_zero"}, "ad");
      b.node("QuantizeLinear", {"b", "b_scale", "b_zero"}, "bq");
      b.node("DequantizeLinear", {"bq", "b_scale", "b_zero"}, "bd");
      b.node("Add", b_first ? std::vector<std::string>{"bd", "ad"} : std::vector<std::string>{"ad", "bd"}, "sum");
      b.node("QuantizeLinear", {"sum", "y_scale", "y_zero"}, "yq");
      b.node("DequantizeLinear", {"yq", "y_scale", "y_zero"}, "y");
      b.output("y");
      const auto ops = b.optimized_ops(2);
      EXPECT_EQ(count_of(ops, "QLinearAdd"), 1u);
      EXPECT_EQ(count_of(ops, "Add"), 0u);
      for (int threads : {1, 3}) b.expect_matches_unoptimized(2, 0.031 * 1.0001, default_cpu_level(), threads);
    }
}

TEST(FuseQdqProducts, QuantizedDigitsModelFusesAndMatchesUnfusedExactly) {
  TempDir folder("qdq_fusion_calibration");
  const Tensor images = read_npy(std::string(KILN_SOURCE_DIR) + "/models/digits/heldout_images.npy");
  for (int64_t i = 0; i < 16; ++i) {
    Tensor one(DType::Float32, {1, 1, 8, 8});
    std::copy_n(images.data<float>() + i * 64, 64, one.data<float>());
    write_npy((folder.path() / ("image_" + std::to_string(i) + ".npy")).string(), one);
  }
  const ir::Model model = onnx_io::load_model(std::string(KILN_SOURCE_DIR) + "/models/digits/digits_cnn.onnx");
  const ir::Model quantized =
      quant::quantize_static(model, quant::CalibrationData(folder.path(), {"image"}), {}).model;
  GraphBuilder b;
  b.model = quantized;
  b.feeds = {{"image", images}};
  const auto ops = b.optimized_ops(3);
  EXPECT_EQ(count_of(ops, "QLinearConv"), 2u);
  // The hidden layer requantized, the logits (a graph output, no Q) dequantized in the epilogue.
  EXPECT_EQ(count_of(ops, "QGemm"), 2u);
  EXPECT_TRUE(runtime::Plan(b.model, SessionOptions{}).optimizer_warnings().empty());
  // MaxPool and Flatten move the integers (DropQdqAroundDataMovement): the image's Q is all that
  // is left of the QDQ pairs.
  EXPECT_EQ(count_of(ops, "QuantizeLinear"), 1u);
  EXPECT_EQ(count_of(ops, "DequantizeLinear"), 0u);
  // Integer kernels requantize to the values DQ -> op -> Q computes in float. The float logits
  // differ only by float rounding: the integer sum is exact where the float Gemm rounds each of its
  // 64 products' partial sums (relative 64 * 2^-24 of logits below 10: under 1e-4).
  for (int threads : {1, 3}) b.expect_matches_unoptimized(3, 1e-4, default_cpu_level(), threads);
}

// Dtypes as the importer's type inference records them (the quantizer touches float values only).
void type_as_float(GraphBuilder& b) {
  for (ir::Node& node : b.model.graph.nodes) b.model.graph.value_info[node.outputs[0]] = {node.outputs[0], DType::Float32, {}};
  b.model.graph.outputs[0].dtype = DType::Float32;
}

// `b` (float input x of `shape`) quantized by Kiln's quantizer, calibrated on four random x.
GraphBuilder quantized_by_kiln(GraphBuilder b, const Shape& shape, uint32_t first_seed) {
  type_as_float(b);
  std::vector<std::map<std::string, Tensor>> samples;
  for (uint32_t seed = first_seed; seed < first_seed + 4; ++seed) samples.push_back({{"x", random_tensor(shape, seed)}});
  b.model = quant::quantize_static(b.model, quant::CalibrationSampleList(samples), {}).model;
  return b;
}

// x -> Conv -> Relu -> Conv -> Add(x) -> Relu -> Conv -> y, quantized by Kiln (the last Conv,
// whose float result is the graph's output, stays float): at level 3 the two int8 convolutions run
// channels-last, the transposes between them cancel, and the values are level 2's exactly.
TEST(QuantizedChannelsLast, ConvolutionChainsStayChannelsLast) {
  GraphBuilder b;
  b.model.opset_imports[""] = 13;
  b.input("x", random_tensor({1, 16, 7, 7}, 1));
  for (const char* w : {"w1", "w2", "w3"}) b.constant(w, random_tensor({16, 16, 3, 3}, w[1], -0.3f, 0.3f));
  const std::map<std::string, ir::Attribute> same = {{"kernel_shape", std::vector<int64_t>{3, 3}},
                                                     {"pads", std::vector<int64_t>{1, 1, 1, 1}}};
  b.node("Conv", {"x", "w1"}, "c1", same);
  b.node("Relu", {"c1"}, "r1");
  b.node("Conv", {"r1", "w2"}, "c2", same);
  b.node("Add", {"c2", "x"}, "sum");
  b.node("Relu", {"sum"}, "r2");
  b.node("Conv", {"r2", "w3"}, "y", same);
  b.output("y");
  const GraphBuilder quantized = quantized_by_kiln(b, {1, 16, 7, 7}, 10);
  const auto ops = quantized.optimized_ops(3);
  EXPECT_EQ(count_of(ops, "QLinearConv"), 2u);
  EXPECT_EQ(count_of(ops, "QLinearAdd"), 1u);
  // Into the first convolution and out of the second (the Add also reads x, which is NCHW): none
  // between them.
  EXPECT_EQ(count_of(ops, "Transpose"), 2u);
  for (const auto& node : quantized.optimized(3).graph.nodes) {
    if (node.op_type == "QLinearConv") {
      EXPECT_EQ(node.domain, "kiln");
    }
  }
  // The int8 part is exact; the float Conv at the end runs NCHWc at level 3, another summation
  // order over its 144 products (magnitudes below 1): within 144 * 2^-24 of level 2's.
  const auto level2 = quantized.run(2), level3 = quantized.run(3);
  expect_tensor_near(level3[0], level2[0], 1e-5, 0);
}

// x -> Conv -> Relu -> MaxPool -> Conv -> Relu -> Conv -> y: the 8-bit MaxPool between int8
// convolutions runs channels-last too (kiln.MaxPool), so no transpose is left between them.
TEST(QuantizedChannelsLast, MaxPoolBetweenConvolutionsStaysChannelsLast) {
  GraphBuilder b;
  b.model.opset_imports[""] = 13;
  b.input("x", random_tensor({1, 16, 9, 9}, 1));
  for (const char* w : {"w1", "w2", "w3"}) b.constant(w, random_tensor({16, 16, 3, 3}, w[1], -0.3f, 0.3f));
  const std::map<std::string, ir::Attribute> same = {{"kernel_shape", std::vector<int64_t>{3, 3}},
                                                     {"pads", std::vector<int64_t>{1, 1, 1, 1}}};
  b.node("Conv", {"x", "w1"}, "c1", same);
  b.node("Relu", {"c1"}, "r1");
  b.node("MaxPool", {"r1"}, "p1", {{"kernel_shape", std::vector<int64_t>{3, 3}}, {"strides", std::vector<int64_t>{2, 2}},
                                   {"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  b.node("Conv", {"p1", "w2"}, "c2", same);
  b.node("Relu", {"c2"}, "r2");
  b.node("Conv", {"r2", "w3"}, "y", same);
  b.output("y");
  const GraphBuilder quantized = quantized_by_kiln(b, {1, 16, 9, 9}, 20);
  const auto ops = quantized.optimized_ops(3);
  EXPECT_EQ(count_of(ops, "QLinearConv"), 2u);
  EXPECT_EQ(count_of(ops, "MaxPool"), 1u);
  for (const auto& node : quantized.optimized(3).graph.nodes) {
    if (node.op_type == "MaxPool") {
      EXPECT_EQ(node.domain, "kiln");
    }
  }
  // Into the first convolution and out of the second: none around the MaxPool.
  EXPECT_EQ(count_of(ops, "Transpose"), 2u);
  // The float Conv at the end runs NCHWc at level 3 (see above).
  const auto level2 = quantized.run(2), level3 = quantized.run(3);
  expect_tensor_near(level3[0], level2[0], 1e-5, 0);
}

// ONNX Runtime's dynamic MatMul (DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul, then the
// bias Add) becomes kiln.MatMulIntegerToFloat and computes exactly what the unfused nodes do.
TEST(FuseDynamicMatMul, DynamicMatMulDequantizesInTheEpilogueExactly) {
  GraphBuilder b;
  b.model.opset_imports[""] = 13;
  b.input("x", random_tensor({2, 5, 48}, 1, -2.f, 3.f));
  b.constant("w", random_tensor({48, 40}, 2));
  b.constant("bias", random_tensor({40}, 3));
  b.node("MatMul", {"x", "w"}, "product");
  b.node("Add", {"product", "bias"}, "y");
  b.output("y");
  type_as_float(b);
  for (bool per_channel : {true, false}) {
    GraphBuilder quantized = b;
    quant::DynamicOptions options;
    options.per_channel = per_channel;
    quantized.model = quant::quantize_dynamic_model(b.model, options);
    const auto ops = quantized.optimized_ops(2);
    EXPECT_EQ(count_of(ops, "MatMulIntegerToFloat"), 1u);
    EXPECT_EQ(count_of(ops, "MatMulInteger") + count_of(ops, "Cast"), 0u);
    for (int threads : {1, 3}) quantized.expect_matches_unoptimized(2, 0, default_cpu_level(), threads);
  }
}

// What no fusion takes is reported, naming the nodes: a float GlobalAveragePool between a DQ and a Q.
TEST(UnfusedQdqWarnings, NameTheQdqNodesAroundFloatOps) {
  GraphBuilder b;
  b.model.opset_imports[""] = 13;
  b.input("x", random_tensor({1, 4, 5, 5}, 1));
  b.constant("scale", Tensor::scalar<float>(0.02f));
  b.constant("zero", Tensor::scalar<uint8_t>(128));
  b.node("QuantizeLinear", {"x", "scale", "zero"}, "xq");
  b.node("DequantizeLinear", {"xq", "scale", "zero"}, "xd");
  b.node("GlobalAveragePool", {"xd"}, "pooled");
  b.node("QuantizeLinear", {"pooled", "scale", "zero"}, "pq");
  b.node("DequantizeLinear", {"pq", "scale", "zero"}, "y");
  b.output("y");
  const runtime::Plan plan(b.model, SessionOptions{});
  const auto& warnings = plan.optimizer_warnings();
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("'xd_node' (DequantizeLinear) is not fused"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("(GlobalAveragePool) reads its float output"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[1].find("'pq_node' (QuantizeLinear)"), std::string::npos) << warnings[1];
}

}  // namespace
}  // namespace kiln::testing
