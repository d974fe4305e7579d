// Conv and ConvTranspose against naive direct loops (tests/naive_window.h), in 1, 2 and 3 spatial
// dims with odd sizes, strides, dilations, asymmetric pads, auto_pad, groups and output sizing.
#include "kernels/cpu/conv_ref.h"
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
using testing::inside;

NaiveWindow with_kernel_of(const Tensor& w, NaiveWindow window) {
  window.kernel.assign(w.shape().begin() + 2, w.shape().end());
  return window;
}

// Y[n, m, o] = B[m] + sum over c in m's group and taps k of X[n, c, o * s - pad + k * d] * W[m, c, k].
Tensor naive_conv(const Tensor& x, const Tensor& w, const Tensor& bias, const NaiveWindow& window, int64_t groups) {
  const Volume xv{x}, wv{w};
  const Window3 win(with_kernel_of(w, window));
  std::array<int64_t, 3> out{};
  for (size_t d = 0; d < 3; ++d)
    out[d] = (xv.dims[d] + win.pads_begin[d] + win.pads_end[d] - win.extent(d)) / win.strides[d] + 1;
  const int64_t group_in = x.dim(1) / groups, group_out = w.dim(0) / groups;
  Tensor y(DType::Float32, testing::shape_from3(x.dim(0), w.dim(0), out, xv.rank));
  const Volume yv{y};
  for (int64_t n = 0; n < x.dim(0); ++n)
    for (int64_t m = 0; m < w.dim(0); ++m)
      testing::for_each_index3(out, [&](const std::array<int64_t, 3>& o) {
        double sum = bias.defined() ? bias.data<float>()[m] : 0.0;
        for (int64_t c = 0; c < group_in; ++c)
          testing::for_each_index3(win.kernel, [&](const std::array<int64_t, 3>& k) {
            const auto i = win.tap(o, k);
            if (inside(i, xv.dims))
              sum += double(x.data<float>()[xv.offset(n, m / group_out * group_in + c, i)]) *
                     w.data<float>()[wv.offset(m, c, k)];
          });
        y.data<float>()[yv.offset(n, m, o)] = static_cast<float>(sum);
      });
  return y;
}

// The scatter form of the transposed convolution: every X[n, c, i] adds X * W[c, m, k] to
// Y[n, m, i * s - pad + k * d] for the m of c's group. `out` holds Y's spatial dims.
Tensor naive_conv_transpose(const Tensor& x, const Tensor& w, const Tensor& bias, const NaiveWindow& window,
                            int64_t groups, const Ints& out) {
  const Volume xv{x}, wv{w};
  const Window3 win(with_kernel_of(w, window));
  const int64_t group_in = x.dim(1) / groups, group_out = w.dim(1), channels = group_out * groups;
  Shape y_shape = {x.dim(0), channels};
  y_shape.insert(y_shape.end(), out.begin(), out.end());
  Tensor y = Tensor::zeros(DType::Float32, y_shape);
  const Volume yv{y};
  for (int64_t n = 0; n < x.dim(0); ++n)
    for (int64_t c = 0; c < x.dim(1); ++c)
      testing::for_each_index3(xv.dims, [&](const std::array<int64_t, 3>& i) {
        for (int64_t m = 0; m < group_out; ++m)
          testing::for_each_index3(win.kernel, [&](const std::array<int64_t, 3>& k) {
            const auto o = win.tap(i, k);
            if (inside(o, yv.dims))
              y.data<float>()[yv.offset(n, c / group_in * group_out + m, o)] +=
                  x.data<float>()[xv.offset(n, c, i)] * w.data<float>()[wv.offset(c, m, k)];
          });
      });
  if (bias.defined())
    for (int64_t n = 0; n < y.dim(0); ++n)
      for (int64_t m = 0; m < channels; ++m)
        for (int64_t p = 0; p < yv.plane(); ++p) y.data<float>()[(n * channels + m) * yv.plane() + p] += bias.data<float>()[m];
  return y;
}

struct ConvCase {
  Shape x, w;
  NaiveWindow window;
  int64_t groups = 1;
  bool bias = true;
  std::string auto_pad;  // when set, the node gets auto_pad instead of pads; window.pads are the expected ones
  Ints output_padding, output_shape;
};

std::map<std::string, ir::Attribute> window_attributes(const ConvCase& c) {
  std::map<std::string, ir::Attribute> a = {{"group", c.groups}};
  if (!c.window.strides.empty()) a["strides"] = c.window.strides;
  if (!c.window.dilations.empty()) a["dilations"] = c.window.dilations;
  if (!c.auto_pad.empty()) {
    a["auto_pad"] = c.auto_pad;
  } else if (!c.window.pads_begin.empty()) {
    Ints pads = c.window.pads_begin;
    pads.insert(pads.end(), c.window.pads_end.begin(), c.window.pads_end.end());
    a["pads"] = pads;
  }
  if (!c.output_padding.empty()) a["output_padding"] = c.output_padding;
  if (!c.output_shape.empty()) a["output_shape"] = c.output_shape;
  return a;
}

struct ConvInputs {
  Tensor x, w, bias;
};

ConvInputs make_inputs(const ConvCase& c, int64_t bias_size) {
  return {random_tensor(c.x, 11), random_tensor(c.w, 12), c.bias ? random_tensor({bias_size}, 13) : Tensor()};
}

Tensor run_conv_node(const std::string& op, const ConvCase& c, const ConvInputs& in) {
  std::vector<Tensor> inputs = {in.x, in.w};
  if (in.bias.defined()) inputs.push_back(in.bias);
  return run_node({.op = op, .inputs = inputs, .attributes = window_attributes(c), .constant_inputs = {1, 2}})[0];
}

void check_conv(const ConvCase& c) {
  const ConvInputs in = make_inputs(c, c.w[0]);
  // The node runs first: it validates the case before the naive loop trusts it.
  const Tensor actual = run_conv_node("Conv", c, in);
  testing::expect_tensor_near(actual, naive_conv(in.x, in.w, in.bias, c.window, c.groups), 1e-4, 1e-4);
}

void check_conv_transpose(const ConvCase& c, const Ints& expected_spatial) {
  const ConvInputs in = make_inputs(c, c.w[1] * c.groups);
  const Tensor actual = run_conv_node("ConvTranspose", c, in);
  testing::expect_tensor_near(actual, naive_conv_transpose(in.x, in.w, in.bias, c.window, c.groups, expected_spatial),
                              1e-4, 1e-4);
}

void expect_conv_error(const ConvCase& c, const std::string& message) {
  try {
    check_conv(c);
    FAIL() << "expected an error containing '" << message << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Conv_under_test"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
  }
}

TEST(ConvOps, Conv2dPaddedWithBias) {
  check_conv({.x = {2, 3, 13, 11}, .w = {5, 3, 3, 3}, .window = {.pads_begin = {1, 1}, .pads_end = {1, 1}}});
}

TEST(ConvOps, Conv2dStridedDilatedAsymmetricPadsWithoutBias) {
  check_conv({.x = {1, 4, 13, 12},
              .w = {3, 4, 3, 2},
              .window = {.strides = {2, 3}, .dilations = {2, 1}, .pads_begin = {2, 0}, .pads_end = {1, 1}},
              .bias = false});
}

TEST(ConvOps, GroupedConv) {
  check_conv({.x = {2, 6, 9, 7}, .w = {9, 2, 3, 3}, .window = {.pads_begin = {1, 1}, .pads_end = {1, 1}}, .groups = 3});
}

TEST(ConvOps, DepthwiseWithChannelMultiplier) {
  check_conv({.x = {1, 7, 10, 13},
              .w = {14, 1, 3, 3},
              .window = {.strides = {2, 2}, .pads_begin = {1, 1}, .pads_end = {1, 1}},
              .groups = 7});
}

TEST(ConvOps, Conv1d) {
  check_conv({.x = {2, 3, 17}, .w = {4, 3, 5}, .window = {.strides = {3}, .dilations = {2}, .pads_begin = {2}, .pads_end = {1}}});
}

TEST(ConvOps, Conv3d) {
  check_conv({.x = {1, 2, 5, 6, 7},
              .w = {3, 2, 2, 3, 2},
              .window = {.strides = {1, 2, 1}, .pads_begin = {1, 0, 1}, .pads_end = {0, 1, 1}}});
}

TEST(ConvOps, PointwiseConvWithAndWithoutStride) {
  check_conv({.x = {2, 5, 7, 9}, .w = {3, 5, 1, 1}});
  check_conv({.x = {2, 5, 7, 9}, .w = {3, 5, 1, 1}, .window = {.strides = {2, 2}}});
}

TEST(ConvOps, AutoPadSplitsOddPaddingByMode) {
  // H: out 7, total pad 3; W: out 4, total pad 2. SAME_UPPER puts the odd one at the end.
  const Shape x = {1, 2, 13, 10}, w = {3, 2, 4, 3};
  check_conv({.x = x, .w = w, .window = {.strides = {2, 3}, .pads_begin = {1, 1}, .pads_end = {2, 1}}, .auto_pad = "SAME_UPPER"});
  check_conv({.x = x, .w = w, .window = {.strides = {2, 3}, .pads_begin = {2, 1}, .pads_end = {1, 1}}, .auto_pad = "SAME_LOWER"});
  check_conv({.x = x, .w = w, .window = {.strides = {2, 3}}, .auto_pad = "VALID"});
}

TEST(ConvOps, ExplicitKernelShapeMatchingW) {
  const Tensor x = random_tensor({1, 1, 4, 4}, 1), w = Tensor::from_vector<float>({1, 1, 2, 2}, {1, 0, 0, -1});
  const auto out = run_node({.op = "Conv", .inputs = {x, w}, .attributes = {{"kernel_shape", Ints{2, 2}}}});
  testing::expect_tensor_near(out[0], naive_conv(x, w, Tensor(), {.kernel = {2, 2}}, 1));
}

TEST(ConvOps, ResNetStemLayerStraddlesGemmBlocks) {
  // Depth 3 * 7 * 7 = 147 and 32 * 30 = 960 positions cross the GEMM's 128 x 256 blocks.
  check_conv({.x = {1, 3, 64, 60}, .w = {16, 3, 7, 7}, .window = {.strides = {2, 2}, .pads_begin = {3, 3}, .pads_end = {3, 3}}});
}

TEST(ConvOps, ParallelPathsMatchNaive) {
  ThreadPool pool(3);
  // One image and group: im2col and the GEMM rows split over threads. Six (image, group) jobs: jobs in parallel.
  for (const auto& [x_shape, w_shape, groups] : {std::tuple{Shape{1, 4, 15, 9}, Shape{7, 4, 3, 3}, int64_t{1}},
                                                  std::tuple{Shape{2, 6, 8, 11}, Shape{9, 2, 3, 3}, int64_t{3}}}) {
    const Tensor x = random_tensor(x_shape, 1), w = random_tensor(w_shape, 2), b = random_tensor({w_shape[0]}, 3);
    const NaiveWindow window{.pads_begin = {1, 1}, .pads_end = {1, 1}};
    kernels::ConvShape shape{x_shape[0], x_shape[1], w_shape[0], groups,
                             kernels::make_window_geometry({x_shape[2], x_shape[3]},
                                                           {.kernel = {3, 3}, .pads = {1, 1, 1, 1}})};
    const Tensor expected = naive_conv(x, w, b, window, groups);
    Tensor y(DType::Float32, expected.shape());
    kernels::compute_conv(x.data<float>(), w.data<float>(), b.data<float>(), y.data<float>(), shape, pool);
    testing::expect_tensor_near(y, expected, 1e-4, 1e-4);

    // The transpose of the same problem maps Y's shape back to X's.
    const Tensor wt = random_tensor({w_shape[0], x_shape[1] / groups, 3, 3}, 4), bt = random_tensor({x_shape[1]}, 5);
    shape.in_channels = w_shape[0];
    shape.out_channels = x_shape[1];
    Tensor xt(DType::Float32, x_shape);
    kernels::compute_conv_transpose(expected.data<float>(), wt.data<float>(), bt.data<float>(), xt.data<float>(), shape,
                                    pool);
    testing::expect_tensor_near(xt, naive_conv_transpose(expected, wt, bt, window, groups, {x_shape[2], x_shape[3]}),
                                1e-4, 1e-4);
  }
}

TEST(ConvOps, ConvErrorsNameTheProblem) {
  expect_conv_error({.x = {1, 4, 5, 5}, .w = {2, 3, 3, 3}}, "do not agree with group 1");
  expect_conv_error({.x = {1, 6, 5, 5}, .w = {4, 2, 3, 3}, .groups = 3}, "do not agree with group 3");
  expect_conv_error({.x = {1, 1, 2, 2}, .w = {1, 1, 3, 3}}, "does not fit the padded input");
  expect_conv_error({.x = {1, 1, 5}, .w = {1, 1, 3, 3}}, "does not match X");
  expect_conv_error({.x = {1, 1, 5, 5}, .w = {1, 1, 3, 3}, .window = {.strides = {1}}}, "strides [1] has 1 values");
  try {
    run_node({.op = "Conv",
              .inputs = {random_tensor({1, 1, 5, 5}, 1), random_tensor({2, 1, 3, 3}, 2), random_tensor({3}, 3)}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("B of shape [3] is not [2]"), std::string::npos) << e.what();
  }
  try {
    run_node({.op = "Conv",
              .inputs = {random_tensor({1, 1, 5, 5}, 1), random_tensor({1, 1, 3, 3}, 2)},
              .attributes = {{"kernel_shape", Ints{2, 2}}}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("kernel_shape [2,2] does not match W"), std::string::npos) << e.what();
  }
}

TEST(ConvTransposeOps, StridedPaddedWithOutputPadding) {
  // H: 3 * (4 - 1) + 1 + 3 - 1 - 1 = 11; W: 2 * (5 - 1) + 1 + 3 - 0 - 2 = 10.
  check_conv_transpose({.x = {2, 3, 4, 5},
                        .w = {3, 4, 3, 3},
                        .window = {.strides = {3, 2}, .pads_begin = {1, 0}, .pads_end = {1, 2}},
                        .output_padding = {1, 1}},
                       {11, 10});
}

TEST(ConvTransposeOps, GroupedDilatedWithoutBias) {
  // H: (5 - 1) + 2 * (2 - 1) + 1 = 7; W: (3 - 1) + 2 * (3 - 1) + 1 = 7.
  check_conv_transpose({.x = {1, 4, 5, 3}, .w = {4, 3, 2, 3}, .window = {.dilations = {2, 2}}, .groups = 2, .bias = false},
                       {7, 7});
}

TEST(ConvTransposeOps, OneAndThreeSpatialDims) {
  // 2 * (7 - 1) + 4 - 1 - 2 = 13.
  check_conv_transpose({.x = {2, 3, 7}, .w = {3, 2, 4}, .window = {.strides = {2}, .pads_begin = {1}, .pads_end = {2}}},
                       {13});
  check_conv_transpose({.x = {1, 2, 3, 4, 2}, .w = {2, 3, 2, 2, 3}, .window = {.strides = {2, 1, 2}}}, {6, 5, 5});
}

TEST(ConvTransposeOps, OutputShapeAndAutoPad) {
  // Natural size 9 x 7; a larger output_shape adds bias-only positions at the end.
  check_conv_transpose({.x = {1, 1, 3, 3}, .w = {1, 2, 3, 3}, .window = {.strides = {3, 2}}, .output_shape = {10, 8}},
                       {10, 8});
  // Natural 7 x 7 cropped to 6 x 5: total pads 1 and 2, the odd one at the start.
  check_conv_transpose({.x = {1, 1, 3, 3},
                        .w = {1, 1, 3, 3},
                        .window = {.strides = {2, 2}, .pads_begin = {1, 1}, .pads_end = {0, 1}},
                        .output_shape = {6, 5}},
                       {6, 5});
  // SAME: output = input * stride (6 x 8 from natural 7 x 9); SAME_UPPER pads the end.
  const Shape x = {1, 2, 3, 4}, w = {2, 3, 3, 3};
  check_conv_transpose({.x = x, .w = w, .window = {.strides = {2, 2}, .pads_begin = {0, 0}, .pads_end = {1, 1}},
                        .auto_pad = "SAME_UPPER"},
                       {6, 8});
  check_conv_transpose({.x = x, .w = w, .window = {.strides = {2, 2}, .pads_begin = {1, 1}, .pads_end = {0, 0}},
                        .auto_pad = "SAME_LOWER"},
                       {6, 8});
}

TEST(ConvTransposeOps, ChannelMismatchIsAnError) {
  try {
    run_node({.op = "ConvTranspose", .inputs = {random_tensor({1, 3, 4, 4}, 1), random_tensor({2, 2, 3, 3}, 2)}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ConvTranspose_under_test"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("do not agree with group 1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kiln
