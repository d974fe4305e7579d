// The quantizer (src/quant/): calibration methods on distributions with known answers, the
// parameters it derives, which tensors its QDQ plan picks, the QDQ model checked op by op, and
// the shipped digits model quantized end to end (static and dynamic) against its float outputs.
#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <random>
#include <set>

#include "core/npy.h"
#include "error_of.h"
#include "graph_builder.h"
#include "ir/graph_edit.h"
#include "onnx/importer.h"
#include "onnx_builder.h"
#include "ops/shapes/shape_functions.h"
#include "quant/calibration_data.h"
#include "quant/calibration_method.h"
#include "quant/insert_qdq.h"
#include "quant/quantizer.h"

namespace kiln::testing {
namespace {

using quant::ActivationType;
using quant::CalibrationMethod;
using quant::MagnitudeHistogram;

MagnitudeHistogram histogram_of(const std::vector<float>& values, int bins) {
  MagnitudeHistogram h;
  for (float v : values) h.top = std::max(h.top, static_cast<double>(std::fabs(v)));
  h.counts.assign(static_cast<size_t>(bins), 0);
  h.add(values.data(), static_cast<int64_t>(values.size()));
  return h;
}

std::vector<float> normal_values(int n, bool rectified, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> values(static_cast<size_t>(n));
  for (float& v : values) v = rectified ? std::max(normal(rng), 0.f) : normal(rng);
  return values;
}

TEST(CalibrationMethod, PercentileCutsTheTailItNames) {
  // 1000 values 1..1000: the 99th percentile of |x| is 990, at the resolution of 1000 bins.
  std::vector<float> values;
  for (int i = 1; i <= 1000; ++i) values.push_back(static_cast<float>(i % 2 ? i : -i));
  const MagnitudeHistogram h = histogram_of(values, 1000);
  EXPECT_NEAR(quant::percentile_threshold(h, 99.0), 990.0, 1.0);
  EXPECT_NEAR(quant::percentile_threshold(h, 100.0), 1000.0, 1e-9);
  EXPECT_TRUE(error_of([&] { quant::percentile_threshold(h, 0.0); }).has_value());
}

TEST(CalibrationMethod, EntropyClipsOnlyTheSparseTail) {
  // Standard normal data: TensorRT's calibration keeps most of the range (a threshold well past
  // 2.5 sigma) but never more than the largest value.
  const auto values = normal_values(200000, false, 1);
  const MagnitudeHistogram h = histogram_of(values, 2048);
  const double threshold = quant::entropy_threshold(h, 128);
  EXPECT_GT(threshold, 2.5);
  EXPECT_LE(threshold, h.top);
}

TEST(CalibrationMethod, EntropyIgnoresTheZerosOfARelu) {
  // Half of a ReLU's outputs are exact zeros; counted in the first bin they would pull the
  // threshold below 2 sigma, which clips a fifth of the non-zero values' range.
  const auto values = normal_values(200000, true, 2);
  const MagnitudeHistogram h = histogram_of(values, 2048);
  EXPECT_GT(h.zeros, 90000u);
  EXPECT_GT(quant::entropy_threshold(h, 255), 3.0);
}

TEST(CalibrationMethod, NamesTheMethodsOnAnUnknownOne) {
  EXPECT_EQ(quant::parse_calibration_method("entropy"), CalibrationMethod::Entropy);
  const auto e = error_of([] { quant::parse_calibration_method("kl"); });
  ASSERT_TRUE(e);
  EXPECT_NE(std::string(e->what()).find("minmax, percentile, entropy"), std::string::npos);
}

TEST(QuantizationParams, Uint8IsAsymmetricWithAnExactZero) {
  const auto q = quant::activation_quantization(-1.f, 3.f, ActivationType::UInt8);
  EXPECT_EQ(q.dtype, DType::UInt8);
  EXPECT_FLOAT_EQ(q.scale, 4.f / 255.f);
  EXPECT_EQ(q.zero_point, 64);  // round(1 / (4 / 255)) = round(63.75)
  // A range that excludes 0 is widened to hold it.
  const auto positive = quant::activation_quantization(2.f, 4.f, ActivationType::UInt8);
  EXPECT_EQ(positive.zero_point, 0);
  EXPECT_FLOAT_EQ(positive.scale, 4.f / 255.f);
  EXPECT_FLOAT_EQ(quant::activation_quantization(0.f, 0.f, ActivationType::UInt8).scale, 1.f);
}

TEST(QuantizationParams, Int8IsSymmetric) {
  const auto q = quant::activation_quantization(-1.f, 3.f, ActivationType::Int8);
  EXPECT_EQ(q.dtype, DType::Int8);
  EXPECT_EQ(q.zero_point, 0);
  EXPECT_FLOAT_EQ(q.scale, 3.f / 127.f);
}

TEST(QuantizationParams, WeightsPerChannelAreWithinHalfAStep) {
  const Tensor w = random_tensor({5, 3, 3, 3}, 7, -2.f, 2.f);
  const auto q = quant::quantize_weight(w, 0);
  ASSERT_EQ(q.scales.numel(), 5);
  for (int64_t e = 0; e < w.numel(); ++e) {
    const float scale = q.scales.data<float>()[e / 27];
    const float restored = static_cast<float>(q.values.data<int8_t>()[e]) * scale;
    EXPECT_LE(std::fabs(restored - w.data<float>()[e]), scale / 2 * 1.0001f);
  }
  const auto per_tensor = quant::quantize_weight(w, -1);
  EXPECT_EQ(per_tensor.scales.rank(), 0u);
}

TEST(QuantizationParams, BiasScaleIsInputScaleTimesWeightScale) {
  const Tensor bias = Tensor::from_vector<float>({2}, {0.5f, -1.25f});
  const Tensor weight_scales = Tensor::from_vector<float>({2}, {0.01f, 0.02f});
  const auto q = quant::quantize_bias(bias, 0.1f, weight_scales);
  EXPECT_FLOAT_EQ(q.scales.data<float>()[1], 0.1f * 0.02f);
  EXPECT_EQ(q.values.data<int32_t>()[0], 500);
  EXPECT_EQ(q.values.data<int32_t>()[1], -625);
}

// x -> Conv -> Relu -> MaxPool -> Flatten -> Gemm (transB) -> y
GraphBuilder small_cnn() {
  GraphBuilder b;
  b.model.opset_imports[""] = 13;
  b.input("x", random_tensor({1, 2, 6, 6}, 3));
  b.constant("w", random_tensor({4, 2, 3, 3}, 4));
  b.constant("b", random_tensor({4}, 5));
  b.constant("fc", random_tensor({3, 16}, 6));
  b.constant("fc_b", random_tensor({3}, 8));
  b.node("Conv", {"x", "w", "b"}, "conv", {{"kernel_shape", std::vector<int64_t>{3, 3}}});
  b.node("Relu", {"conv"}, "relu");
  b.node("MaxPool", {"relu"}, "pool", {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}});
  b.node("Flatten", {"pool"}, "flat");
  b.node("Gemm", {"flat", "fc", "fc_b"}, "y", {{"transB", int64_t{1}}});
  b.output("y");
  // Dtypes as the importer's type inference records them (the quantizer only touches float values).
  for (const ir::Node& node : b.model.graph.nodes) b.model.graph.value_info[node.outputs[0]] = {node.outputs[0], DType::Float32, {}};
  b.model.graph.outputs[0].dtype = DType::Float32;
  return b;
}

TEST(QdqPlan, PicksTensorsAsOnnxRuntimeDoes) {
  GraphBuilder b = small_cnn();
  ops::infer_shapes(b.model);
  const quant::QdqPlan plan = quant::plan_qdq(b.model.graph, {});
  // The input and the Relu's output get their own ranges; the Relu goes (its output's Q clamps).
  EXPECT_EQ(plan.calibrated, (std::vector<std::string>{"x", "relu"}));
  ASSERT_EQ(plan.removed_activations.size(), 1u);
  EXPECT_EQ(b.model.graph.nodes[plan.removed_activations[0]].op_type, "Relu");
  // MaxPool and Flatten move integers: their outputs share the Relu's parameters.
  EXPECT_EQ(plan.shared.at("pool"), "relu");
  EXPECT_EQ(plan.shared.at("flat"), "relu");
  // Weights per output channel: axis 0 of Conv's, axis 0 of Gemm's transposed B; the graph
  // output stays float.
  ASSERT_EQ(plan.weights.size(), 2u);
  EXPECT_EQ(plan.weights[0].axis, 0);
  EXPECT_EQ(plan.weights[1].name, "fc");
  EXPECT_EQ(plan.weights[1].axis, 0);
  EXPECT_EQ(plan.biases.size(), 2u);
  EXPECT_EQ(std::count(plan.calibrated.begin(), plan.calibrated.end(), "y"), 0);
}

TEST(QdqPlan, ExcludesByOpTypeAndKeepsFirstAndLastFloat) {
  GraphBuilder b = small_cnn();
  ops::infer_shapes(b.model);
  quant::QdqOptions options;
  options.exclude = {"Gemm"};
  const quant::QdqPlan excluded = quant::plan_qdq(b.model.graph, options);
  ASSERT_EQ(excluded.weights.size(), 1u);
  EXPECT_EQ(excluded.weights[0].name, "w");
  options.exclude.clear();
  options.keep_float_first_last = true;
  const quant::QdqPlan kept = quant::plan_qdq(b.model.graph, options);
  EXPECT_TRUE(kept.weights.empty());
  // Int8 activations keep the Relu: a symmetric Q does not clamp at zero.
  quant::QdqOptions int8;
  int8.activation_type = ActivationType::Int8;
  EXPECT_TRUE(quant::plan_qdq(b.model.graph, int8).removed_activations.empty());
}

// The digits model and a calibration folder of its held-out images, one .npy per sample.
struct DigitsFixture {
  TempDir folder{"quantizer_calibration"};
  Tensor images = read_npy(std::string(KILN_SOURCE_DIR) + "/models/digits/heldout_images.npy");
  ir::Model model = onnx_io::load_model(std::string(KILN_SOURCE_DIR) + "/models/digits/digits_cnn.onnx");
  std::optional<quant::CalibrationData> samples;

  DigitsFixture() {
    const int64_t per_image = images.numel() / images.dim(0);
    for (int64_t i = 0; i < 40; ++i) {
      Tensor one(DType::Float32, {1, 1, 8, 8});
      std::copy_n(images.data<float>() + i * per_image, per_image, one.data<float>());
      char name[32];
      std::snprintf(name, sizeof name, "image_%05lld.npy", static_cast<long long>(i));
      write_npy((folder.path() / name).string(), one);
    }
    samples.emplace(folder.path(), std::vector<std::string>{"image"});
  }

  std::vector<Tensor> run(const ir::Model& m) const {
    const runtime::Plan plan(m, SessionOptions{});
    return plan.run({{"image", images}}, {m.graph.outputs[0].name});
  }
};

int64_t argmax_agreement(const Tensor& a, const Tensor& b) {
  const int64_t rows = a.dim(0), cols = a.dim(1);
  int64_t agree = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = a.data<float>() + r * cols;
    const float* y = b.data<float>() + r * cols;
    agree += std::max_element(x, x + cols) - x == std::max_element(y, y + cols) - y;
  }
  return agree;
}

double cosine(const Tensor& a, const Tensor& b) {
  double dot = 0, na = 0, nb = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    dot += static_cast<double>(a.data<float>()[i]) * b.data<float>()[i];
    na += static_cast<double>(a.data<float>()[i]) * a.data<float>()[i];
    nb += static_cast<double>(b.data<float>()[i]) * b.data<float>()[i];
  }
  return dot / std::sqrt(na * nb);
}

class QuantizeDigits : public ::testing::TestWithParam<CalibrationMethod> {};

TEST_P(QuantizeDigits, QdqModelIsWellFormedAndAgreesWithFloat) {
  DigitsFixture digits;
  quant::StaticOptions options;
  options.calibration.method = GetParam();
  const quant::StaticResult result = quant::quantize_static(digits.model, *digits.samples, options);
  const ir::Graph& g = result.model.graph;
  g.validate();
  // Op by op: every Conv and Gemm reads each of its inputs through a DequantizeLinear, whose
  // weight input is an int8 initializer with one float scale per output channel.
  const auto producers = g.producers();
  int weighted = 0;
  for (const ir::Node& node : g.nodes) {
    if (node.op_type != "Conv" && node.op_type != "Gemm") continue;
    ++weighted;
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const ir::Node& dq = g.nodes[producers.at(node.inputs[i])];
      EXPECT_EQ(dq.op_type, "DequantizeLinear") << node.describe() << " input " << i;
      if (i == 0) continue;
      const Tensor& values = g.initializers.at(dq.inputs[0]);
      EXPECT_EQ(values.dtype(), i == 1 ? DType::Int8 : DType::Int32) << node.describe() << " input " << i;
      EXPECT_EQ(g.initializers.at(dq.inputs[1]).numel(), values.dim(0)) << "one scale per output channel";
    }
  }
  EXPECT_EQ(weighted, 4);
  for (const ir::Node& node : g.nodes) EXPECT_NE(node.op_type, "Relu") << "a Relu should be done by its output's Q";
  // The quantized model's predictions agree with the float model's on the held-out images.
  const Tensor expected = digits.run(digits.model)[0];
  const Tensor actual = digits.run(result.model)[0];
  EXPECT_GE(argmax_agreement(expected, actual), expected.dim(0) - 1);
  EXPECT_GT(cosine(expected, actual), 0.999);
}

INSTANTIATE_TEST_SUITE_P(Methods, QuantizeDigits,
                         ::testing::Values(CalibrationMethod::MinMax, CalibrationMethod::Percentile, CalibrationMethod::Entropy),
                         [](const auto& method) { return std::string(quant::calibration_method_name(method.param)); });

TEST(QuantizeStatic, ReportRanksTensorsByError) {
  DigitsFixture digits;
  const quant::StaticResult result = quant::quantize_static(digits.model, *digits.samples, {});
  const auto errors = quant::quantization_errors(result, quant::CalibrationData(digits.folder.path(), {"image"}, 10));
  ASSERT_FALSE(errors.empty());
  for (size_t i = 1; i < errors.size(); ++i) EXPECT_LE(errors[i - 1].sqnr_db, errors[i].sqnr_db);
  for (const auto& e : errors) {
    EXPECT_GT(e.cosine, 0.99) << e.tensor;
    EXPECT_GT(e.sqnr_db, 20.0) << e.tensor;  // 8 bits over a calibrated range: about 6 dB per bit
  }
}

TEST(QuantizeStatic, PerChannelNeedsOpset13) {
  DigitsFixture digits;
  digits.model.opset_imports[""] = 11;
  const auto e = error_of([&] { quant::quantize_static(digits.model, *digits.samples, {}); });
  ASSERT_TRUE(e);
  EXPECT_NE(std::string(e->what()).find("opset 13"), std::string::npos);
}

TEST(QuantizeDynamic, WritesOnnxRuntimesFormAndAgreesWithFloat) {
  DigitsFixture digits;
  const ir::Model quantized = quant::quantize_dynamic_model(digits.model, {});
  std::multiset<std::string> ops;
  for (const ir::Node& node : quantized.graph.nodes) ops.insert(node.op_type);
  EXPECT_EQ(ops.count("ConvInteger"), 2u);
  EXPECT_EQ(ops.count("MatMulInteger"), 2u);
  EXPECT_EQ(ops.count("DynamicQuantizeLinear"), 4u);
  EXPECT_EQ(ops.count("Conv") + ops.count("Gemm"), 0u);
  const Tensor expected = digits.run(digits.model)[0];
  const Tensor actual = digits.run(quantized)[0];
  EXPECT_GE(argmax_agreement(expected, actual), expected.dim(0) - 1);
  EXPECT_GT(cosine(expected, actual), 0.999);
}

TEST(CalibrationData, PairsFilesByInputAndSaysWhatIsMissing) {
  TempDir folder("calibration_pairs");
  const Tensor t = Tensor::zeros(DType::Float32, {1, 2});
  write_npy((folder.path() / "a_1.npy").string(), t);
  write_npy((folder.path() / "b_1.npy").string(), t);
  write_npy((folder.path() / "a_2.npy").string(), t);
  const auto e = error_of([&] { quant::CalibrationData(folder.path(), {"a", "b"}); });
  ASSERT_TRUE(e);
  EXPECT_NE(std::string(e->what()).find("b_2.npy"), std::string::npos) << e->what();
  write_npy((folder.path() / "b_2.npy").string(), t);
  const quant::CalibrationData data(folder.path(), {"a", "b"});
  EXPECT_EQ(data.size(), 2);
  EXPECT_EQ(data.sample(1).size(), 2u);
  EXPECT_EQ(quant::CalibrationData(folder.path(), {"a", "b"}, 1).size(), 1);
  const auto empty = error_of([&] { quant::CalibrationData(folder.path(), {"c", "d"}); });
  ASSERT_TRUE(empty);
  EXPECT_NE(std::string(empty->what()).find("holds no samples"), std::string::npos);
  EXPECT_TRUE(error_of([&] { quant::CalibrationData(folder.path() / "absent", {"a"}); }).has_value());
}

}  // namespace
}  // namespace kiln::testing
