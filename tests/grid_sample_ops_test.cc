#include <algorithm>
#include <cmath>
#include <limits>

#include "test_util.h"

namespace kiln {
namespace {

using namespace kiln::testing;

struct GridSampleCase {
  std::string mode, padding;
  bool align_corners;
};

// The pixel coordinate of a normalized one, along an axis of `size` pixels.
double unnormalize(double g, int64_t size, bool align_corners) {
  const auto s = static_cast<double>(size);
  return align_corners ? (g + 1) / 2 * (s - 1) : ((g + 1) * s - 1) / 2;
}

// v mirrored into [low, high]: a triangle wave of period 2 * (high - low).
double mirror(double v, double low, double high) {
  const double span = high - low;
  if (span <= 0) return low;
  const double t = std::fmod(std::abs(v - low), 2 * span);
  return low + (t > span ? 2 * span - t : t);
}

double pad(double v, int64_t size, const GridSampleCase& c) {
  const double last = static_cast<double>(size - 1);
  if (c.padding == "border") return std::clamp(v, 0.0, last);
  if (c.padding == "reflection")
    return std::clamp(c.align_corners ? mirror(v, 0, last) : mirror(v, -0.5, last + 0.5), 0.0, last);
  return v;
}

// Keys' cubic convolution kernel with a = -0.75, as a function of the distance to a tap.
double keys(double d) {
  const double a = -0.75;
  d = std::abs(d);
  if (d < 1) return ((a + 2) * d - (a + 3)) * d * d + 1;
  if (d < 2) return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
  return 0;
}

// Samples one [h, w] plane at normalized point (gx, gy): bilinear as a tent filter and bicubic as
// the Keys kernel, both summed over every pixel near the point.
double naive_sample(const float* plane, int64_t h, int64_t w, double gx, double gy, const GridSampleCase& c) {
  const auto pixel = [&](double px, double py) {
    const bool inside = px >= 0 && px < static_cast<double>(w) && py >= 0 && py < static_cast<double>(h);
    return inside ? static_cast<double>(plane[static_cast<int64_t>(py) * w + static_cast<int64_t>(px)]) : 0.0;
  };
  double ix = unnormalize(gx, w, c.align_corners), iy = unnormalize(gy, h, c.align_corners);
  double sum = 0;
  if (c.mode == "bicubic") {
    for (double py = std::floor(iy) - 2; py <= std::floor(iy) + 3; ++py)
      for (double px = std::floor(ix) - 2; px <= std::floor(ix) + 3; ++px)
        sum += keys(ix - px) * keys(iy - py) * pixel(std::round(pad(px, w, c)), std::round(pad(py, h, c)));
    return sum;
  }
  ix = pad(ix, w, c);
  iy = pad(iy, h, c);
  if (c.mode == "nearest") return pixel(std::nearbyint(ix), std::nearbyint(iy));
  for (double py = std::floor(iy) - 1; py <= std::floor(iy) + 2; ++py)
    for (double px = std::floor(ix) - 1; px <= std::floor(ix) + 2; ++px)
      sum += std::max(0.0, 1 - std::abs(ix - px)) * std::max(0.0, 1 - std::abs(iy - py)) * pixel(px, py);
  return sum;
}

Tensor naive_grid_sample(const Tensor& x, const Tensor& grid, const GridSampleCase& c) {
  const int64_t batch = x.dim(0), channels = x.dim(1), h = x.dim(2), w = x.dim(3);
  const int64_t out_h = grid.dim(1), out_w = grid.dim(2);
  Tensor y(DType::Float32, {batch, channels, out_h, out_w});
  float* out = y.data<float>();
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t ch = 0; ch < channels; ++ch)
      for (int64_t i = 0; i < out_h * out_w; ++i) {
        const float* point = grid.data<float>() + (n * out_h * out_w + i) * 2;
        const float* plane = x.data<float>() + (n * channels + ch) * h * w;
        *out++ = static_cast<float>(naive_sample(plane, h, w, point[0], point[1], c));
      }
  return y;
}

std::vector<GridSampleCase> all_cases() {
  std::vector<GridSampleCase> cases;
  for (const char* mode : {"bilinear", "nearest", "bicubic"})
    for (const char* padding : {"zeros", "border", "reflection"})
      for (bool align_corners : {false, true}) cases.push_back({mode, padding, align_corners});
  return cases;
}

NodeSpec grid_sample_spec(const Tensor& x, const Tensor& grid, const GridSampleCase& c) {
  return {.op = "GridSample",
          .inputs = {x, grid},
          .attributes = {{"mode", c.mode}, {"padding_mode", c.padding}, {"align_corners", int64_t{c.align_corners}}},
          .opset = 16};
}

TEST(GridSampleOps, EveryModeAndPaddingMatchesNaiveSampling) {
  uint32_t seed = 1;
  for (const GridSampleCase& c : all_cases()) {
    SCOPED_TRACE(c.mode + " " + c.padding + " align_corners=" + std::to_string(c.align_corners));
    // Points reach well outside [-1, 1] so that every padding mode is exercised.
    for (const auto& [x_shape, grid_shape] : {std::pair<Shape, Shape>{{2, 3, 5, 7}, {2, 4, 6, 2}},
                                              {{1, 1, 1, 1}, {1, 3, 3, 2}},
                                              {{1, 2, 13, 3}, {1, 1, 13, 2}}}) {
      const Tensor x = random_tensor(x_shape, seed++);
      const Tensor grid = random_tensor(grid_shape, seed++, -2.5f, 2.5f);
      const auto out = run_node(grid_sample_spec(x, grid, c));
      expect_tensor_near(out[0], naive_grid_sample(x, grid, c), 1e-5, 1e-5);
    }
  }
}

TEST(GridSampleOps, PixelCentreGridReproducesTheInput) {
  const int64_t h = 3, w = 5;
  const Tensor x = random_tensor({1, 2, h, w}, 3);
  for (const GridSampleCase& c : all_cases()) {
    SCOPED_TRACE(c.mode + " " + c.padding + " align_corners=" + std::to_string(c.align_corners));
    // Pixel i's centre is at 2i / (size - 1) - 1 with align_corners, else at (2i + 1) / size - 1.
    const auto centre = [&](int64_t i, int64_t size) {
      const auto fi = static_cast<float>(i), fs = static_cast<float>(size);
      return c.align_corners ? 2 * fi / (fs - 1) - 1 : (2 * fi + 1) / fs - 1;
    };
    std::vector<float> points;
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j) points.insert(points.end(), {centre(j, w), centre(i, h)});
    const auto out = run_node(grid_sample_spec(x, Tensor::from_vector<float>({1, h, w, 2}, points), c));
    expect_tensor_near(out[0], x, 1e-5, 1e-5);
  }
}

TEST(GridSampleOps, DefaultsAreBilinearZerosAndHandComputed) {
  // 2x2 image, align_corners = 0: the normalized point (0, 0) is the image centre, the mean of all
  // four pixels; (-1, -1) is the outer corner of pixel (0, 0), a quarter of it with zero padding.
  const Tensor x = Tensor::from_vector<float>({1, 1, 2, 2}, {1, 2, 3, 4});
  const Tensor grid = Tensor::from_vector<float>({1, 1, 2, 2}, {0, 0, -1, -1});
  const auto out = run_node({.op = "GridSample", .inputs = {x, grid}, .opset = 16});
  expect_tensor_near(out[0], Tensor::from_vector<float>({1, 1, 1, 2}, {2.5f, 0.25f}));
}

TEST(GridSampleOps, DoubleInputsAndNonFinitePoints) {
  const Tensor x = Tensor::from_vector<double>({1, 1, 1, 2}, {10, 20});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Tensor grid = Tensor::from_vector<double>({1, 1, 3, 2}, {0, 0, nan, 0, 0, -std::numeric_limits<double>::infinity()});
  const auto out = run_node({.op = "GridSample",
                             .inputs = {x, grid},
                             .attributes = {{"padding_mode", std::string("border")}},
                             .opset = 16});
  expect_tensor_near(out[0], Tensor::from_vector<double>({1, 1, 1, 3}, {15, 0, 0}), 1e-12, 1e-12);
}

TEST(GridSampleOps, RejectsBadShapesAndAttributes) {
  const Tensor x = random_tensor({2, 1, 3, 3}, 5);
  const Tensor grid = random_tensor({2, 2, 2, 2}, 6);
  expect_node_error({.op = "GridSample", .inputs = {x, random_tensor({1, 2, 2, 2}, 7)}, .opset = 16},
                    ErrorCode::InvalidArgument, "grid must be [2, H_out, W_out, 2] for X [2,1,3,3], got [1,2,2,2]");
  expect_node_error({.op = "GridSample", .inputs = {random_tensor({2, 3, 3}, 8), grid}, .opset = 16},
                    ErrorCode::InvalidArgument, "X must be 4-D [N, C, H, W], got [2,3,3]");
  expect_node_error({.op = "GridSample", .inputs = {x, grid}, .attributes = {{"mode", std::string("linear")}}, .opset = 16},
                    ErrorCode::InvalidModel, "mode 'linear' is not one of bilinear, nearest, bicubic");
  expect_node_error(
      {.op = "GridSample", .inputs = {x, grid}, .attributes = {{"padding_mode", std::string("wrap")}}, .opset = 16},
      ErrorCode::InvalidModel, "padding_mode 'wrap' is not one of zeros, border, reflection");
  expect_node_error({.op = "GridSample", .inputs = {x, Tensor(DType::Float64, {2, 2, 2, 2})}, .opset = 16},
                    ErrorCode::NotImplemented, "grid of dtype float64 with X of dtype float32 is not supported");
}

}  // namespace
}  // namespace kiln
