// MaxPool, AveragePool, LpPool and the Global pools against a naive window loop
// (tests/naive_window.h), in 1, 2 and 3 spatial dims with odd sizes, pads, strides, dilations,
// ceil_mode, auto_pad, count_include_pad and both index storage orders.
#include <cmath>
#include <limits>

#include "kernels/cpu/pool_ref.h"
#include "naive_window.h"
#include "test_util.h"

namespace kiln {
namespace {

using Ints = std::vector<int64_t>;
using testing::NaiveWindow;
using testing::random_tensor;
using testing::run_node;
using testing::Volume;
using testing::Window3;

enum class Pool { Max, Average, AverageIncludingPad, Lp };

struct PoolResult {
  Tensor y, indices;  // indices: row-major flat index of each window's first maximum (Max only)
};

// Window positions per dim, ceil_mode dropping a last window that would start in the end padding.
int64_t naive_output_dim(int64_t input, const Window3& w, size_t d, bool ceil_mode) {
  const int64_t span = input + w.pads_begin[d] + w.pads_end[d] - w.extent(d);
  int64_t out = (ceil_mode ? (span + w.strides[d] - 1) / w.strides[d] : span / w.strides[d]) + 1;
  if (ceil_mode && (out - 1) * w.strides[d] >= input + w.pads_begin[d]) --out;
  return out;
}

PoolResult naive_pool(const Tensor& x, const NaiveWindow& window, Pool kind, bool ceil_mode = false, float p = 2.f) {
  const Volume xv{x};
  const Window3 win(window);
  std::array<int64_t, 3> out{};
  for (size_t d = 0; d < 3; ++d) out[d] = naive_output_dim(xv.dims[d], win, d, ceil_mode);
  const Shape shape = testing::shape_from3(x.dim(0), x.dim(1), out, xv.rank);
  PoolResult r{Tensor(DType::Float32, shape), Tensor(DType::Int64, shape)};
  const Volume yv{r.y};
  for (int64_t n = 0; n < x.dim(0); ++n)
    for (int64_t c = 0; c < x.dim(1); ++c)
      testing::for_each_index3(out, [&](const std::array<int64_t, 3>& o) {
        double best = -std::numeric_limits<double>::infinity(), sum = 0;
        int64_t best_index = -1, count = 0, padded_count = 0;
        testing::for_each_index3(win.kernel, [&](const std::array<int64_t, 3>& k) {
          const auto i = win.tap(o, k);
          if (testing::inside(i, xv.dims, win.pads_begin, win.pads_end)) ++padded_count;
          if (!testing::inside(i, xv.dims)) return;
          const double v = x.data<float>()[xv.offset(n, c, i)];
          ++count;
          sum += kind == Pool::Lp ? std::pow(std::abs(v), double(p)) : v;
          if (v > best) best = v, best_index = xv.offset(n, c, i);
        });
        double value = kind == Pool::Max ? best : sum / double(kind == Pool::Average ? count : padded_count);
        if (kind == Pool::Lp) value = std::pow(sum, 1.0 / p);
        r.y.data<float>()[yv.offset(n, c, o)] = static_cast<float>(value);
        r.indices.data<int64_t>()[yv.offset(n, c, o)] = best_index;
      });
  return r;
}

std::map<std::string, ir::Attribute> pool_attributes(const NaiveWindow& w) {
  std::map<std::string, ir::Attribute> a = testing::window_node_attributes(w);
  a["kernel_shape"] = w.kernel;
  return a;
}

struct PoolCase {
  std::string op;
  Shape x;
  NaiveWindow window;
  std::map<std::string, ir::Attribute> extra;  // added to (or replacing) the window's attributes
};

std::vector<Tensor> run_pool(const PoolCase& c, const Tensor& x, size_t outputs = 1) {
  auto attributes = pool_attributes(c.window);
  for (const auto& [name, value] : c.extra) attributes[name] = value;
  return run_node({.op = c.op, .inputs = {x}, .attributes = attributes, .opset = 19, .outputs = outputs});
}

void check_pool(const PoolCase& c, Pool kind, bool ceil_mode = false, float p = 2.f) {
  const Tensor x = random_tensor(c.x, 7);
  const Tensor actual = run_pool(c, x)[0];
  testing::expect_tensor_near(actual, naive_pool(x, c.window, kind, ceil_mode, p).y, 1e-5, 1e-5);
}

TEST(PoolOps, MaxPoolWithIndicesPadsStridesDilations) {
  const PoolCase c{"MaxPool", {2, 3, 13, 11},
                   {.kernel = {3, 2}, .strides = {2, 1}, .dilations = {1, 2}, .pads_begin = {1, 0}, .pads_end = {1, 1}}};
  const Tensor x = random_tensor(c.x, 3);
  const auto out = run_pool(c, x, 2);
  const PoolResult expected = naive_pool(x, c.window, Pool::Max);
  testing::expect_tensor_near(out[0], expected.y);
  testing::expect_tensor_near(out[1], expected.indices);
}

TEST(PoolOps, MaxPoolColumnMajorIndices) {
  const PoolCase c{"MaxPool", {2, 2, 5, 7}, {.kernel = {2, 3}, .strides = {2, 2}}, {{"storage_order", int64_t{1}}}};
  const Tensor x = random_tensor(c.x, 4);
  const auto out = run_pool(c, x, 2);
  Tensor expected = naive_pool(x, c.window, Pool::Max).indices;
  const int64_t height = 5, width = 7;
  for (int64_t i = 0; i < expected.numel(); ++i) {
    int64_t& index = expected.data<int64_t>()[i];
    const int64_t plane = index / (height * width), h = index % (height * width) / width, w = index % width;
    index = plane * height * width + w * height + h;
  }
  testing::expect_tensor_near(out[1], expected);
}

TEST(PoolOps, MaxPoolOneAndThreeDimsAndCeilMode) {
  check_pool({"MaxPool", {2, 3, 17}, {.kernel = {4}, .strides = {3}, .pads_begin = {2}, .pads_end = {1}}}, Pool::Max);
  check_pool({"MaxPool", {1, 2, 5, 6, 7}, {.kernel = {2, 3, 2}, .strides = {2, 1, 2}}}, Pool::Max);
  check_pool({"MaxPool", {1, 2, 6, 7}, {.kernel = {3, 2}, .strides = {2, 2}}, {{"ceil_mode", int64_t{1}}}}, Pool::Max,
             true);
}

TEST(PoolOps, CeilModeNeverStartsAWindowInTheEndPadding) {
  // Length 5 padded by 1 each side, windows of 2 step 2: a fourth window would start at padded
  // position 6, past the input, so there are three.
  const Tensor x = Tensor::from_vector<float>({1, 1, 5}, {1, 2, 3, 4, 5});
  const auto out = run_node({.op = "MaxPool",
                             .inputs = {x},
                             .attributes = {{"kernel_shape", Ints{2}}, {"strides", Ints{2}}, {"pads", Ints{1, 1}},
                                            {"ceil_mode", int64_t{1}}}});
  testing::expect_tensor_near(out[0], Tensor::from_vector<float>({1, 1, 3}, {1, 3, 5}));
}

TEST(PoolOps, MaxPoolUint8) {
  Tensor x(DType::UInt8, {1, 2, 7, 5});
  Tensor x_float(DType::Float32, x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) {
    x.data<uint8_t>()[i] = static_cast<uint8_t>((i * 97 + 13) % 256);
    x_float.data<float>()[i] = x.data<uint8_t>()[i];
  }
  const PoolCase c{"MaxPool", x.shape(), {.kernel = {3, 3}, .pads_begin = {1, 1}, .pads_end = {1, 1}}};
  const Tensor expected_float = naive_pool(x_float, c.window, Pool::Max).y;
  Tensor expected(DType::UInt8, expected_float.shape());
  for (int64_t i = 0; i < expected.numel(); ++i) expected.data<uint8_t>()[i] = static_cast<uint8_t>(expected_float.data<float>()[i]);
  testing::expect_tensor_near(run_pool(c, x)[0], expected);
}

TEST(PoolOps, AveragePoolExcludingAndIncludingPad) {
  const NaiveWindow window{.kernel = {3, 4}, .strides = {2, 3}, .pads_begin = {2, 1}, .pads_end = {1, 2}};
  check_pool({"AveragePool", {2, 3, 11, 13}, window}, Pool::Average);
  check_pool({"AveragePool", {2, 3, 11, 13}, window, {{"count_include_pad", int64_t{1}}}}, Pool::AverageIncludingPad);
  check_pool({"AveragePool", {1, 2, 4, 5, 6}, {.kernel = {2, 2, 3}, .pads_begin = {1, 0, 1}, .pads_end = {0, 1, 1}}},
             Pool::Average);
}

TEST(PoolOps, AveragePoolCeilModeCountsOnlyThePaddedInput) {
  // Windows (pad, 1), (2, 3), (4, 5): the pad counts, nothing past the padded input exists.
  const Tensor x = Tensor::from_vector<float>({1, 1, 5}, {1, 2, 3, 4, 5});
  const auto padded = run_node({.op = "AveragePool",
                                .inputs = {x},
                                .attributes = {{"kernel_shape", Ints{2}}, {"strides", Ints{2}}, {"pads", Ints{1, 0}},
                                               {"ceil_mode", int64_t{1}}, {"count_include_pad", int64_t{1}}}});
  testing::expect_tensor_near(padded[0], Tensor::from_vector<float>({1, 1, 3}, {0.5f, 2.5f, 4.5f}));
  // Without pads the last window holds only 5 and runs past the input: it averages over one value.
  const auto unpadded = run_node({.op = "AveragePool",
                                  .inputs = {x},
                                  .attributes = {{"kernel_shape", Ints{2}}, {"strides", Ints{2}},
                                                 {"ceil_mode", int64_t{1}}, {"count_include_pad", int64_t{1}}}});
  testing::expect_tensor_near(unpadded[0], Tensor::from_vector<float>({1, 1, 3}, {1.5f, 3.5f, 5.f}));
}

TEST(PoolOps, AutoPadSplitsOddPaddingByMode) {
  // 7 x 6 input, kernel 2 x 3, strides 1 x 2: outputs 7 x 3 with one pad row and one pad column each.
  const Shape x = {1, 2, 7, 6};
  check_pool({"AveragePool", x, {.kernel = {2, 3}, .strides = {1, 2}, .pads_begin = {0, 0}, .pads_end = {1, 1}},
              {{"auto_pad", std::string("SAME_UPPER")}, {"pads", Ints{}}}},
             Pool::Average);
  check_pool({"MaxPool", x, {.kernel = {2, 3}, .strides = {1, 2}, .pads_begin = {1, 1}, .pads_end = {0, 0}},
              {{"auto_pad", std::string("SAME_LOWER")}, {"pads", Ints{}}}},
             Pool::Max);
  check_pool({"MaxPool", x, {.kernel = {2, 3}, .strides = {1, 2}}, {{"auto_pad", std::string("VALID")}}}, Pool::Max);
}

TEST(PoolOps, LpPool) {
  check_pool({"LpPool", {2, 3, 9, 8}, {.kernel = {3, 2}, .strides = {2, 2}, .pads_begin = {1, 0}, .pads_end = {1, 1}}},
             Pool::Lp);
  check_pool({"LpPool", {1, 2, 11}, {.kernel = {3}, .strides = {2}}, {{"p", int64_t{3}}}}, Pool::Lp, false, 3.f);
}

TEST(PoolOps, GlobalPoolsReduceEverySpatialDim) {
  for (const Shape& shape : {Shape{2, 3, 9}, Shape{2, 3, 5, 7}, Shape{1, 2, 3, 4, 5}}) {
    const Tensor x = random_tensor(shape, 9);
    const NaiveWindow whole{.kernel = Ints(shape.begin() + 2, shape.end())};
    testing::expect_tensor_near(run_node({.op = "GlobalAveragePool", .inputs = {x}})[0],
                                naive_pool(x, whole, Pool::Average).y, 1e-5, 1e-5);
    testing::expect_tensor_near(run_node({.op = "GlobalMaxPool", .inputs = {x}})[0], naive_pool(x, whole, Pool::Max).y);
    testing::expect_tensor_near(run_node({.op = "GlobalLpPool", .inputs = {x}})[0], naive_pool(x, whole, Pool::Lp).y,
                                1e-5, 1e-5);
  }
}

TEST(PoolOps, ParallelMaxPoolIndexesEveryPlane) {
  ThreadPool pool(3);
  const Tensor x = random_tensor({3, 5, 9, 8}, 5);
  const NaiveWindow window{.kernel = {3, 3}, .strides = {2, 2}, .pads_begin = {1, 1}, .pads_end = {1, 1}};
  const PoolResult expected = naive_pool(x, window, Pool::Max);
  const auto geometry = kernels::make_window_geometry({9, 8}, {.kernel = {3, 3}, .strides = {2, 2}, .pads = {1, 1, 1, 1}});
  Tensor y(DType::Float32, expected.y.shape()), indices(DType::Int64, expected.y.shape());
  kernels::compute_max_pool(x.data<float>(), y.data<float>(), indices.data<int64_t>(), false, 15, geometry, pool);
  testing::expect_tensor_near(y, expected.y);
  testing::expect_tensor_near(indices, expected.indices);
}

TEST(PoolOps, ErrorsNameTheProblem) {
  const auto expect_message = [](const std::string& op, const Tensor& x, std::map<std::string, ir::Attribute> attributes,
                                 const std::string& message) {
    try {
      run_node({.op = op, .inputs = {x}, .attributes = std::move(attributes)});
      FAIL() << "expected an error containing '" << message << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(op + "_under_test"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  };
  const Tensor x = random_tensor({1, 1, 4, 4}, 1);
  expect_message("MaxPool", x, {}, "kernel_shape is required");
  expect_message("AveragePool", x, {{"kernel_shape", Ints{5, 5}}}, "does not fit the padded input");
  expect_message("MaxPool", x, {{"kernel_shape", Ints{2, 2}}, {"pads", Ints{1, 1}}}, "pads [1,1] has 2 values, expected 4");
  expect_message("MaxPool", x, {{"kernel_shape", Ints{2}}}, "does not match the 2 spatial dims");
  expect_message("AveragePool", x, {{"kernel_shape", Ints{2, 2}}, {"auto_pad", std::string("SAME")}}, "unknown auto_pad 'SAME'");
  expect_message("GlobalAveragePool", random_tensor({2, 3}, 1), {}, "is not [N, C, spatial...]");
  expect_message("LpPool", x, {{"kernel_shape", Ints{2, 2}}, {"p", int64_t{0}}}, "is not positive");
}

}  // namespace
}  // namespace kiln
