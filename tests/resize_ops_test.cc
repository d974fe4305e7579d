// Resize and Upsample: hand-computed ONNX examples, a brute-force N-d linear oracle, and properties
// of cubic interpolation.
#include <cmath>

#include "kernels/cpu/resize_ref.h"
#include "test_util.h"

namespace kiln {
namespace {

using testing::expect_error_containing;
using testing::run_node;

Tensor floats(Shape shape, std::vector<float> values) { return Tensor::from_vector<float>(std::move(shape), values); }
Tensor int64s(std::vector<int64_t> values) {
  return Tensor::from_vector<int64_t>({static_cast<int64_t>(values.size())}, values);
}

// Resize-13 with scales or sizes (the other an absent input) and string attributes.
Tensor resize(const Tensor& x, const Tensor& scales, const Tensor& sizes,
              std::map<std::string, ir::Attribute> attributes = {}, int64_t opset = 13) {
  return run_node({.op = "Resize", .inputs = {x, Tensor(), scales, sizes}, .attributes = attributes, .opset = opset})[0];
}

TEST(ResizeOps, NearestUpsampleByScales) {
  const Tensor x = floats({1, 1, 2, 2}, {1, 2, 3, 4});
  const Tensor y = resize(x, floats({4}, {1, 1, 2, 3}), Tensor(), {{"mode", std::string("nearest")}});
  testing::expect_tensor_near(y, floats({1, 1, 4, 6}, {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2,
                                                       3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4}));
}

TEST(ResizeOps, BilinearHalfPixelUpsample) {
  const Tensor x = floats({1, 1, 2, 2}, {1, 2, 3, 4});
  const Tensor y = resize(x, floats({4}, {1, 1, 2, 2}), Tensor(), {{"mode", std::string("linear")}});
  testing::expect_tensor_near(y, floats({1, 1, 4, 4}, {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5,
                                                       2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4}));
}

TEST(ResizeOps, NearestTfHalfPixelForNnBySizes) {
  Tensor x(DType::Float32, {1, 1, 4, 4});
  for (int i = 0; i < 16; ++i) x.data<float>()[i] = static_cast<float>(i + 1);
  const Tensor y = resize(x, Tensor(), int64s({1, 1, 3, 2}), {{"coordinate_transformation_mode", std::string("tf_half_pixel_for_nn")}});
  testing::expect_tensor_near(y, floats({1, 1, 3, 2}, {6, 8, 10, 12, 14, 16}));
}

TEST(ResizeOps, NearestRoundingModes) {
  // Asymmetric 1-D upsample by 4: input coordinates 0, 0.25, 0.5, 0.75, 1, ...
  const Tensor x = floats({3}, {10, 20, 30});
  const std::vector<std::pair<std::string, std::vector<float>>> cases = {
      {"round_prefer_floor", {10, 10, 10, 20, 20, 20, 20, 30, 30, 30, 30, 30}},
      {"round_prefer_ceil", {10, 10, 20, 20, 20, 20, 30, 30, 30, 30, 30, 30}},
      {"floor", {10, 10, 10, 10, 20, 20, 20, 20, 30, 30, 30, 30}},
      {"ceil", {10, 20, 20, 20, 20, 30, 30, 30, 30, 30, 30, 30}}};
  for (const auto& [mode, expected] : cases) {
    SCOPED_TRACE(mode);
    const Tensor y = resize(x, floats({1}, {4}), Tensor(),
                            {{"nearest_mode", mode}, {"coordinate_transformation_mode", std::string("asymmetric")}});
    testing::expect_tensor_near(y, floats({12}, expected));
  }
}

TEST(ResizeOps, CropAndResizeExtrapolatesOutsideTheRoi) {
  const Tensor x = floats({4}, {0, 10, 20, 30});
  // Input coordinates 0.5 * 3 + j * 1.0 * 3 / 2 = 1.5, 3, 4.5: the last lies outside the input.
  const auto y = run_node({.op = "Resize",
                           .inputs = {x, floats({2}, {0.5f, 1.5f}), Tensor(), int64s({3})},
                           .attributes = {{"mode", std::string("linear")},
                                          {"coordinate_transformation_mode", std::string("tf_crop_and_resize")},
                                          {"extrapolation_value", -1.f}},
                           .opset = 13});
  testing::expect_tensor_near(y[0], floats({3}, {15, 30, -1}));
}

// N-d linear interpolation by brute force: every output element sums the 2^rank corners around its
// input coordinate, with the coordinate clamped into the input (which is what edge padding gives).
Tensor naive_linear(const Tensor& x, const Shape& out_shape, const std::string& transform) {
  const Shape& in_shape = x.shape();
  const size_t rank = in_shape.size();
  Tensor y(DType::Float32, out_shape);
  for (int64_t o = 0; o < y.numel(); ++o) {
    std::vector<int64_t> low(rank), high(rank);
    std::vector<double> frac(rank);
    for (int64_t a = static_cast<int64_t>(rank) - 1, rest = o; a >= 0; --a) {
      const auto ax = static_cast<size_t>(a);
      const int64_t j = rest % out_shape[ax];
      rest /= out_shape[ax];
      const double in = static_cast<double>(in_shape[ax]), out = static_cast<double>(out_shape[ax]);
      double c = transform == "align_corners" ? (out > 1 ? static_cast<double>(j) * (in - 1) / (out - 1) : 0)
                                              : (static_cast<double>(j) + 0.5) * in / out - 0.5;
      c = std::clamp(c, 0.0, in - 1);
      low[ax] = static_cast<int64_t>(std::floor(c));
      high[ax] = std::min<int64_t>(low[ax] + 1, in_shape[ax] - 1);
      frac[ax] = c - static_cast<double>(low[ax]);
    }
    double sum = 0;
    for (uint32_t corner = 0; corner < (1u << rank); ++corner) {
      double weight = 1;
      int64_t index = 0;
      for (size_t a = 0; a < rank; ++a) {
        const bool up = (corner >> a) & 1u;
        weight *= up ? frac[a] : 1 - frac[a];
        index = index * in_shape[a] + (up ? high[a] : low[a]);
      }
      sum += weight * x.data<float>()[index];
    }
    y.data<float>()[o] = static_cast<float>(sum);
  }
  return y;
}

TEST(ResizeOps, LinearMatchesBruteForceOnOddSizes) {
  const Tensor x = testing::random_tensor({2, 3, 5, 7}, 11);
  for (const Shape& out_shape : std::vector<Shape>{{2, 3, 9, 4}, {2, 5, 13, 7}, {1, 3, 1, 13}, {3, 1, 5, 7}}) {
    for (const std::string transform : {"half_pixel", "align_corners"}) {
      SCOPED_TRACE(shape_to_string(out_shape) + " " + transform);
      const Tensor y = resize(x, Tensor(), int64s(out_shape),
                              {{"mode", std::string("linear")}, {"coordinate_transformation_mode", transform}});
      testing::expect_tensor_near(y, naive_linear(x, out_shape, transform));
    }
  }
}

TEST(ResizeOps, ThreadedResizeMatchesSingleThreaded) {
  const Tensor x = testing::random_tensor({2, 3, 17, 9}, 5);
  std::vector<kernels::ResizeAxis> axes = {{2, 2, 1, 2}, {3, 3, 1, 3}, {17, 40, 40.0 / 17, 40}, {9, 5, 5.0 / 9, 5}};
  const kernels::ResizeOptions options{.mode = kernels::ResizeMode::Cubic};
  Tensor single(DType::Float32, {2, 3, 40, 5}), threaded(DType::Float32, {2, 3, 40, 5});
  ThreadPool one(1), four(4);
  kernels::compute_resize<float>(x.data<float>(), x.shape(), axes, options, single.data<float>(), one);
  kernels::compute_resize<float>(x.data<float>(), x.shape(), axes, options, threaded.data<float>(), four);
  testing::expect_tensor_near(threaded, single, 0, 0);
}

TEST(ResizeOps, CubicWithKeysCoefficientReproducesARampAwayFromTheEdges) {
  Tensor x(DType::Float32, {13});
  for (int i = 0; i < 13; ++i) x.data<float>()[i] = static_cast<float>(3 * i);
  // Keys' kernel reproduces linear functions only with a = -0.5 (the default -0.75 sharpens).
  const Tensor y = resize(x, floats({1}, {2}), Tensor(), {{"mode", std::string("cubic")}, {"cubic_coeff_a", -0.5f}});
  ASSERT_EQ(y.shape(), (Shape{26}));
  // Output j samples input coordinate (j + 0.5) / 2 - 0.5; its four taps lie inside for 4 <= j < 22.
  for (int j = 4; j < 22; ++j) EXPECT_NEAR(y.data<float>()[j], 3 * ((j + 0.5) / 2 - 0.5), 1e-4) << "at " << j;
}

TEST(ResizeOps, Opset18AxesAndKeepAspectRatio) {
  const Tensor x = floats({1, 2, 3}, {1, 2, 3, 4, 5, 6});
  // not_smaller picks the larger ratio, max(4 / 2, 4 / 3) = 2, for both axes: the output is 4 x 6.
  const auto y = run_node({.op = "Resize",
                           .inputs = {x, Tensor(), Tensor(), int64s({4, 4})},
                           .attributes = {{"axes", std::vector<int64_t>{1, -1}},
                                          {"keep_aspect_ratio_policy", std::string("not_smaller")},
                                          {"coordinate_transformation_mode", std::string("asymmetric")},
                                          {"nearest_mode", std::string("floor")}},
                           .opset = 18});
  testing::expect_tensor_near(y[0], floats({1, 4, 6}, {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3,
                                                       4, 4, 5, 5, 6, 6, 4, 4, 5, 5, 6, 6}));
}

TEST(ResizeOps, IntegerNearestWorksAndIntegerLinearIsNotImplemented) {
  const Tensor x = Tensor::from_vector<uint8_t>({1, 2}, {7, 200});
  const Tensor y = resize(x, floats({2}, {1, 2}), Tensor());
  testing::expect_tensor_near(y, Tensor::from_vector<uint8_t>({1, 4}, {7, 7, 200, 200}));
  try {
    resize(x, floats({2}, {1, 2}), Tensor(), {{"mode", std::string("linear")}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::NotImplemented);
  }
}

TEST(ResizeOps, LegacyUpsampleAndResize10UseAsymmetricFloor) {
  const Tensor x = floats({1, 3}, {1, 2, 3});
  const Tensor expected = floats({2, 6}, {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3});
  const auto upsample7 = run_node({.op = "Upsample", .inputs = {x}, .attributes = {{"scales", std::vector<float>{2, 2}}}, .opset = 7});
  testing::expect_tensor_near(upsample7[0], expected);
  const auto upsample9 = run_node({.op = "Upsample", .inputs = {x, floats({2}, {2, 2})}, .opset = 9});
  testing::expect_tensor_near(upsample9[0], expected);
  // Resize-10 downsampling rounds up: asymmetric coordinates 0 and 1 / 0.6 = 1.67 pick elements 0 and 2.
  const auto resize10 = run_node({.op = "Resize", .inputs = {floats({4}, {1, 2, 3, 4}), floats({1}, {0.6f})}, .opset = 10});
  testing::expect_tensor_near(resize10[0], floats({2}, {1, 3}));
  // Bilinear asymmetric: coordinates 0, 0.5, 1, 1.5 (clamped to 1).
  const auto linear = run_node({.op = "Upsample",
                                .inputs = {floats({2}, {1, 3}), floats({1}, {2})},
                                .attributes = {{"mode", std::string("linear")}},
                                .opset = 9});
  testing::expect_tensor_near(linear[0], floats({4}, {1, 2, 3, 3}));
}

TEST(ResizeOps, InvalidTargetsAreErrors) {
  const Tensor x = floats({2}, {1, 2});
  expect_error_containing({.op = "Resize", .inputs = {x, Tensor(), floats({1}, {2}), int64s({4})}, .opset = 13},
                          "exactly one of scales and sizes");
  expect_error_containing({.op = "Resize", .inputs = {x, Tensor(), floats({2}, {2, 2})}, .opset = 13},
                          "scales has 2 values, expected 1");
  expect_error_containing({.op = "Resize", .inputs = {x, Tensor(), floats({1}, {-1})}, .opset = 13},
                          "scales must be positive");
  expect_error_containing({.op = "Resize", .inputs = {x, Tensor(), floats({1}, {1e30f})}, .opset = 13},
                          "invalid output size");
  expect_error_containing({.op = "Upsample", .inputs = {x, floats({1}, {0.5f})}, .opset = 9},
                          "Upsample scales must be at least 1");
  expect_error_containing({.op = "Resize", .inputs = {x, Tensor(), floats({1}, {2})}, .attributes = {{"mode", std::string("area")}}},
                          "mode 'area' is not one of nearest, linear, cubic");
  expect_error_containing({.op = "Resize", .inputs = {x, Tensor(), floats({1}, {2})}, .attributes = {{"antialias", int64_t{1}}}, .opset = 18},
                          "antialias");
}

}  // namespace
}  // namespace kiln
