// Normalization ops against naive loops in double, on odd sizes.
#include <cmath>
#include <string>
#include <vector>

#include "test_util.h"

namespace kiln {
namespace {

using testing::random_tensor;
using testing::run_node;

// Mean and biased variance of the elements of x at the given indices.
std::pair<double, double> naive_moments(const Tensor& x, const std::vector<int64_t>& indices) {
  double sum = 0, squares = 0;
  for (int64_t i : indices) sum += x.value_as_double(i);
  const double mean = sum / static_cast<double>(indices.size());
  for (int64_t i : indices) squares += (x.value_as_double(i) - mean) * (x.value_as_double(i) - mean);
  return {mean, squares / static_cast<double>(indices.size())};
}

std::vector<int64_t> index_range(int64_t begin, int64_t count) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < count; ++i) out.push_back(begin + i);
  return out;
}

std::string error_of(const testing::NodeSpec& spec) {
  try {
    run_node(spec);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(NormOps, BatchNormUsesStoredStatistics) {
  const int64_t N = 2, C = 3, S = 13;
  const Tensor x = random_tensor({N, C, S}, 1), scale = random_tensor({C}, 2), bias = random_tensor({C}, 3);
  const Tensor mean = random_tensor({C}, 4), var = random_tensor({C}, 5, 0.1f, 2.f);
  for (const int64_t opset : {6, 9, 15}) {
    SCOPED_TRACE("opset " + std::to_string(opset));
    std::map<std::string, ir::Attribute> attributes = {{"epsilon", 1e-2f}};
    if (opset == 6) attributes["is_test"] = int64_t{1};
    const auto out = run_node({.op = "BatchNormalization", .inputs = {x, scale, bias, mean, var},
                               .attributes = attributes, .opset = opset, .constant_inputs = {1, 2, 3, 4}});
    Tensor expected(DType::Float32, x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) {
      const int64_t c = i / S % C;
      expected.data<float>()[i] = static_cast<float>(
          (x.value_as_double(i) - mean.value_as_double(c)) / std::sqrt(var.value_as_double(c) + 1e-2) *
              scale.value_as_double(c) +
          bias.value_as_double(c));
    }
    testing::expect_tensor_near(out[0], expected);
  }
}

TEST(NormOps, BatchNormRejectsTrainingAndBadShapes) {
  const Tensor x = random_tensor({2, 3}, 1), c3 = random_tensor({3}, 2), c2 = random_tensor({2}, 3);
  EXPECT_NE(error_of({.op = "BatchNormalization", .inputs = {x, c3, c3, c3, c3},
                      .attributes = {{"training_mode", int64_t{1}}}, .opset = 15})
                .find("training mode"),
            std::string::npos);
  // Opset 6 without is_test=1 is training.
  EXPECT_NE(error_of({.op = "BatchNormalization", .inputs = {x, c3, c3, c3, c3}, .opset = 6}).find("training mode"),
            std::string::npos);
  const std::string shape_error = error_of({.op = "BatchNormalization", .inputs = {x, c3, c2, c3, c3}});
  EXPECT_NE(shape_error.find("B must have shape [3]"), std::string::npos) << shape_error;
}

TEST(NormOps, InstanceNormNormalizesEachPlane) {
  const int64_t N = 3, C = 5, S = 13;
  const Tensor x = random_tensor({N, C, 1, S}, 6, -3.f, 5.f), scale = random_tensor({C}, 7), bias = random_tensor({C}, 8);
  const auto out = run_node({.op = "InstanceNormalization", .inputs = {x, scale, bias}, .attributes = {{"epsilon", 1e-3f}}});
  Tensor expected(DType::Float32, x.shape());
  for (int64_t plane = 0; plane < N * C; ++plane) {
    const auto [mean, var] = naive_moments(x, index_range(plane * S, S));
    for (int64_t s = 0; s < S; ++s) {
      const int64_t i = plane * S + s;
      expected.data<float>()[i] = static_cast<float>((x.value_as_double(i) - mean) / std::sqrt(var + 1e-3) *
                                                         scale.value_as_double(plane % C) +
                                                     bias.value_as_double(plane % C));
    }
  }
  testing::expect_tensor_near(out[0], expected, 1e-5, 1e-4);
}

TEST(NormOps, LayerNormWithStatisticsOutputs) {
  const Tensor x = random_tensor({3, 5, 7}, 9, -2.f, 4.f);
  // axis 1 normalizes [5, 7]; a [7] Scale broadcasts over it.
  struct Case {
    int64_t axis, rows, cols;
    Shape scale_shape, stats_shape;
  };
  for (const Case& c : {Case{1, 3, 35, {7}, {3, 1, 1}}, Case{-1, 15, 7, {7}, {3, 5, 1}}, Case{0, 1, 105, {5, 7}, {1, 1, 1}}}) {
    SCOPED_TRACE("axis " + std::to_string(c.axis));
    const Tensor scale = random_tensor(c.scale_shape, 10), bias = random_tensor(c.scale_shape, 11);
    const int64_t period = scale.numel();
    const auto out = run_node({.op = "LayerNormalization", .inputs = {x, scale, bias},
                               .attributes = {{"axis", c.axis}}, .outputs = 3});
    Tensor y(DType::Float32, x.shape()), mean_out(DType::Float32, c.stats_shape), inv_out(DType::Float32, c.stats_shape);
    for (int64_t r = 0; r < c.rows; ++r) {
      const auto [mean, var] = naive_moments(x, index_range(r * c.cols, c.cols));
      mean_out.data<float>()[r] = static_cast<float>(mean);
      inv_out.data<float>()[r] = static_cast<float>(1 / std::sqrt(var + 1e-5));
      for (int64_t k = 0; k < c.cols; ++k) {
        const int64_t i = r * c.cols + k;
        y.data<float>()[i] = static_cast<float>((x.value_as_double(i) - mean) / std::sqrt(var + 1e-5) *
                                                    scale.value_as_double(k % period) +
                                                bias.value_as_double(k % period));
      }
    }
    testing::expect_tensor_near(out[0], y, 1e-5, 1e-4);
    testing::expect_tensor_near(out[1], mean_out);
    testing::expect_tensor_near(out[2], inv_out, 1e-5, 1e-4);
  }
}

TEST(NormOps, LayerNormWithoutBiasAndBadScale) {
  const Tensor x = Tensor::from_vector<float>({1, 3}, {1, 2, 3});
  const Tensor scale = Tensor::from_vector<float>({3}, {1, 2, 3});
  const auto out = run_node({.op = "LayerNormalization", .inputs = {x, scale}, .attributes = {{"epsilon", 0.f}}});
  const float z = std::sqrt(1.5f);  // 1 / std of {1, 2, 3}
  testing::expect_tensor_near(out[0], Tensor::from_vector<float>({1, 3}, {-z, 0, 3 * z}));
  const std::string error = error_of({.op = "LayerNormalization", .inputs = {x, random_tensor({2}, 1)}});
  EXPECT_NE(error.find("Scale [2] does not broadcast to the normalized shape [3]"), std::string::npos) << error;
}

TEST(NormOps, LrnSumsSquaresOverNeighbouringChannels) {
  const int64_t N = 2, C = 7, S = 3;
  const Tensor x = random_tensor({N, C, S}, 12, -3.f, 3.f);
  // An even size makes the window reach one channel further after c than before it.
  for (const int64_t size : {3, 4}) {
    SCOPED_TRACE("size " + std::to_string(size));
    const auto out = run_node({.op = "LRN", .inputs = {x},
                               .attributes = {{"size", size}, {"alpha", 0.3f}, {"beta", 0.6f}, {"bias", 2.f}}});
    Tensor expected(DType::Float32, x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) {
      const int64_t n = i / (C * S), c = i / S % C, s = i % S;
      double sum = 0;
      for (int64_t k = c - (size - 1) / 2; k <= c + size / 2; ++k)
        if (k >= 0 && k < C) sum += std::pow(x.value_as_double((n * C + k) * S + s), 2);
      expected.data<float>()[i] = static_cast<float>(x.value_as_double(i) / std::pow(2 + 0.3 / size * sum, 0.6));
    }
    testing::expect_tensor_near(out[0], expected);
  }
  EXPECT_NE(error_of({.op = "LRN", .inputs = {x}}).find("missing required attribute 'size'"), std::string::npos);
}

TEST(NormOps, MeanVarianceNormalizationOverAxes) {
  const int64_t N = 3, C = 2, H = 5, W = 1;
  const Tensor x = random_tensor({N, C, H, W}, 13, -1.f, 3.f);
  // Default axes {0, 2, 3}: one group per channel.
  const auto out = run_node({.op = "MeanVarianceNormalization", .inputs = {x}});
  Tensor expected(DType::Float32, x.shape());
  for (int64_t c = 0; c < C; ++c) {
    std::vector<int64_t> group;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t h = 0; h < H; ++h) group.push_back((n * C + c) * H + h);
    const auto [mean, var] = naive_moments(x, group);
    for (int64_t i : group) expected.data<float>()[i] = static_cast<float>((x.value_as_double(i) - mean) / (std::sqrt(var) + 1e-9));
  }
  testing::expect_tensor_near(out[0], expected, 1e-5, 1e-4);
  // Axis -2 (H) alone: one group per (n, c, w).
  const auto per_row = run_node({.op = "MeanVarianceNormalization", .inputs = {x}, .attributes = {{"axes", std::vector<int64_t>{-2}}}});
  for (int64_t g = 0; g < N * C; ++g) {
    const auto [mean, var] = naive_moments(x, index_range(g * H, H));
    for (int64_t i = g * H; i < (g + 1) * H; ++i)
      expected.data<float>()[i] = static_cast<float>((x.value_as_double(i) - mean) / (std::sqrt(var) + 1e-9));
  }
  testing::expect_tensor_near(per_row[0], expected, 1e-5, 1e-4);
}

}  // namespace
}  // namespace kiln
