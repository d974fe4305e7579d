// Reduce* and ArgMax/ArgMin against brute-force loops that share no code with the kernels.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "kernels/cpu/reduce_ref.h"
#include "test_util.h"

namespace kiln {
namespace {

using testing::expect_error_containing;
using testing::run_node;

const std::vector<std::string> kReduceOps = {"ReduceSum", "ReduceMean", "ReduceMax",    "ReduceMin",
                                             "ReduceProd", "ReduceL1",  "ReduceL2",     "ReduceLogSum",
                                             "ReduceLogSumExp", "ReduceSumSquare"};

// The opset from which `op` takes its axes as an input instead of an attribute.
int64_t axes_input_since(const std::string& op) { return op == "ReduceSum" ? 13 : 18; }

Tensor run_reduce(const std::string& op, const Tensor& x, const std::vector<int64_t>& axes, bool keepdims,
                  int64_t opset, int64_t noop_with_empty_axes = 0) {
  testing::NodeSpec spec{.op = op, .inputs = {x}, .opset = opset};
  spec.attributes["keepdims"] = int64_t{keepdims};
  if (opset >= axes_input_since(op)) {
    spec.inputs.push_back(Tensor::from_vector<int64_t>({static_cast<int64_t>(axes.size())}, axes));
    spec.attributes["noop_with_empty_axes"] = noop_with_empty_axes;
  } else if (!axes.empty()) {
    spec.attributes["axes"] = axes;
  }
  return run_node(spec)[0];
}

double naive_reduce(const std::string& op, const std::vector<double>& v) {
  const double sum = std::accumulate(v.begin(), v.end(), 0.0);
  double sum_abs = 0, sum_squares = 0, sum_exp = 0, prod = 1;
  double max = -std::numeric_limits<double>::infinity(), min = std::numeric_limits<double>::infinity();
  for (double e : v) {
    sum_abs += std::abs(e);
    sum_squares += e * e;
    sum_exp += std::exp(e);
    prod *= e;
    max = std::max(max, e);
    min = std::min(min, e);
  }
  if (op == "ReduceSum") return sum;
  if (op == "ReduceMean") return sum / static_cast<double>(v.size());
  if (op == "ReduceMax") return max;
  if (op == "ReduceMin") return min;
  if (op == "ReduceProd") return prod;
  if (op == "ReduceL1") return sum_abs;
  if (op == "ReduceL2") return std::sqrt(sum_squares);
  if (op == "ReduceLogSum") return std::log(sum);
  if (op == "ReduceLogSumExp") return std::log(sum_exp);
  return sum_squares;
}

// Reduces by walking every input element and appending it to its output's list.
Tensor naive_reduce_tensor(const std::string& op, const Tensor& x, std::vector<int64_t> axes, bool keepdims) {
  const Shape& dims = x.shape();
  const auto rank = static_cast<int64_t>(dims.size());
  for (int64_t& a : axes) a = a < 0 ? a + rank : a;
  if (axes.empty())
    for (int64_t a = 0; a < rank; ++a) axes.push_back(a);
  const auto reduced = [&](int64_t a) { return std::find(axes.begin(), axes.end(), a) != axes.end(); };
  Shape out_shape, kept_shape;
  for (int64_t a = 0; a < rank; ++a) {
    if (!reduced(a)) kept_shape.push_back(dims[a]);
    if (!reduced(a) || keepdims) out_shape.push_back(reduced(a) ? 1 : dims[a]);
  }
  std::vector<std::vector<double>> groups(static_cast<size_t>(shape_numel(kept_shape)));
  for (int64_t i = 0; i < x.numel(); ++i) {
    int64_t rest = i, out_index = 0, out_stride = 1;
    for (int64_t a = rank - 1; a >= 0; --a) {
      const int64_t coordinate = rest % dims[a];
      rest /= dims[a];
      if (reduced(a)) continue;
      out_index += coordinate * out_stride;
      out_stride *= dims[a];
    }
    groups[static_cast<size_t>(out_index)].push_back(x.value_as_double(i));
  }
  Tensor expected(DType::Float32, out_shape);
  for (size_t g = 0; g < groups.size(); ++g) expected.data<float>()[g] = static_cast<float>(naive_reduce(op, groups[g]));
  return expected;
}

TEST(ReduceOps, EveryOpMatchesNaiveLoopWithAxesAsAttributeAndInput) {
  // Values in [0.5, 1.5] keep ReduceProd and ReduceLogSum well inside float's range.
  const Tensor x = testing::random_tensor({3, 2, 7, 5}, 7, 0.5f, 1.5f);
  const std::vector<std::vector<int64_t>> axes_cases = {{}, {0}, {2}, {-1}, {1, 3}, {3, 0}, {0, 2, 3}, {0, 1, 2, 3}};
  for (const std::string& op : kReduceOps) {
    for (const int64_t opset : {axes_input_since(op) - 2, axes_input_since(op)}) {
      for (const auto& axes : axes_cases) {
        for (const bool keepdims : {false, true}) {
          SCOPED_TRACE(op + " opset " + std::to_string(opset) + " axes " + shape_to_string(axes) +
                       " keepdims " + std::to_string(keepdims));
          testing::expect_tensor_near(run_reduce(op, x, axes, keepdims, opset), naive_reduce_tensor(op, x, axes, keepdims));
        }
      }
    }
  }
}

TEST(ReduceOps, HandComputedExample) {
  const Tensor x = Tensor::from_vector<float>({2, 3}, {1, -2, 3, 4, 5, -6});
  testing::expect_tensor_near(run_reduce("ReduceSum", x, {1}, true, 13), Tensor::from_vector<float>({2, 1}, {2, 3}));
  testing::expect_tensor_near(run_reduce("ReduceL1", x, {0}, false, 18), Tensor::from_vector<float>({3}, {5, 7, 9}));
  testing::expect_tensor_near(run_reduce("ReduceMax", x, {}, false, 11), Tensor::scalar<float>(5));
}

TEST(ReduceOps, AbsentAxesInputReducesEverything) {
  const Tensor x = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
  const auto out = run_node({.op = "ReduceMean", .inputs = {x}, .opset = 18});
  testing::expect_tensor_near(out[0], Tensor::from_vector<float>({1, 1}, {2.5f}));
}

TEST(ReduceOps, NoopWithEmptyAxesKeepsEveryElementButAppliesTheElementwiseStep) {
  const Tensor x = Tensor::from_vector<float>({2, 3}, {1, -2, 3, -4, 5, 6});
  testing::expect_tensor_near(run_reduce("ReduceSum", x, {}, false, 13, 1), x);
  testing::expect_tensor_near(run_reduce("ReduceMax", x, {}, true, 18, 1), x);
  testing::expect_tensor_near(run_reduce("ReduceSumSquare", x, {}, false, 18, 1),
                              Tensor::from_vector<float>({2, 3}, {1, 4, 9, 16, 25, 36}));
  testing::expect_tensor_near(run_reduce("ReduceL1", x, {}, false, 18, 1),
                              Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6}));
}

TEST(ReduceOps, EmptyReductionSetGivesTheIdentity) {
  const Tensor x(DType::Float32, {2, 0, 3});
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<std::pair<std::string, float>> identities = {
      {"ReduceSum", 0.f},  {"ReduceProd", 1.f},     {"ReduceMax", -inf},         {"ReduceMin", inf},
      {"ReduceL1", 0.f},   {"ReduceL2", 0.f},       {"ReduceSumSquare", 0.f},    {"ReduceLogSum", -inf},
      {"ReduceLogSumExp", -inf}};
  for (const auto& [op, identity] : identities) {
    SCOPED_TRACE(op);
    testing::expect_tensor_near(run_reduce(op, x, {1}, true, 18),
                                Tensor::from_vector<float>({2, 1, 3}, std::vector<float>(6, identity)));
  }
  const Tensor mean = run_reduce("ReduceMean", x, {1}, false, 18);
  ASSERT_EQ(mean.shape(), (Shape{2, 3}));
  EXPECT_TRUE(std::isnan(mean.data<float>()[0]));
}

TEST(ReduceOps, IntegerInputsKeepTheirType) {
  const Tensor x = Tensor::from_vector<int32_t>({2, 3}, {1, -7, 3, 4, 5, 6});
  testing::expect_tensor_near(run_reduce("ReduceMax", x, {1}, false, 13), Tensor::from_vector<int32_t>({2}, {3, 6}));
  testing::expect_tensor_near(run_reduce("ReduceSum", x, {0}, false, 13), Tensor::from_vector<int32_t>({3}, {5, -2, 9}));
  // The mean truncates toward zero, as numpy's astype does: (1 - 7 + 3) / 3 = -1, 15 / 3 = 5.
  testing::expect_tensor_near(run_reduce("ReduceMean", x, {1}, false, 13), Tensor::from_vector<int32_t>({2}, {-1, 5}));
  const Tensor big = Tensor::from_vector<int64_t>({2}, {int64_t{1} << 40, int64_t{3} << 40});
  testing::expect_tensor_near(run_reduce("ReduceSum", big, {}, false, 13), Tensor::scalar<int64_t>(int64_t{4} << 40));
}

TEST(ReduceOps, LogSumExpDoesNotOverflowOnLargeInputs) {
  const Tensor x = Tensor::from_vector<float>({3}, {1000, 1000, -1000});
  testing::expect_tensor_near(run_reduce("ReduceLogSumExp", x, {0}, false, 13),
                              Tensor::scalar<float>(1000.f + std::log(2.f)), 1e-3);
}

TEST(ReduceOps, MaxAndMinPropagateNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = Tensor::from_vector<float>({4}, {1, nan, 3, 2});
  EXPECT_TRUE(std::isnan(run_reduce("ReduceMax", x, {0}, false, 13).data<float>()[0]));
  EXPECT_TRUE(std::isnan(run_reduce("ReduceMin", x, {0}, false, 13).data<float>()[0]));
}

TEST(ReduceOps, ThreadedReductionMatchesSingleThreaded) {
  const Tensor x = testing::random_tensor({37, 3, 129}, 3);
  for (const std::vector<int64_t>& axes : std::vector<std::vector<int64_t>>{{2}, {0}, {0, 2}, {1}}) {
    const Tensor expected = naive_reduce_tensor("ReduceSum", x, axes, false);
    Tensor actual(DType::Float32, expected.shape());
    ThreadPool pool(4);
    kernels::compute_reduce<float>(kernels::ReduceKind::Sum, x.data<float>(), x.shape(), axes, actual.data<float>(), pool);
    testing::expect_tensor_near(actual, expected);
  }
}

TEST(ReduceOps, BadAxesAreErrors) {
  const Tensor x = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
  expect_error_containing({.op = "ReduceSum", .inputs = {x, Tensor::from_vector<int64_t>({2}, {1, -1})}, .opset = 13},
                          "axes lists axis 1 more than once");
  expect_error_containing({.op = "ReduceMean", .inputs = {x}, .attributes = {{"axes", std::vector<int64_t>{2}}}},
                          "axis 2 is out of range for rank 2");
  expect_error_containing({.op = "ReduceSum", .inputs = {x, Tensor::from_vector<float>({1}, {0})}, .opset = 13},
                          "axes must be int64");
}

// ArgMax / ArgMin by a plain scan along the axis.
Tensor naive_arg_reduce(const Tensor& x, int64_t axis, bool find_max, bool select_last, bool keepdims) {
  const Shape& dims = x.shape();
  const int64_t n = dims[static_cast<size_t>(axis)];
  const int64_t outer = shape_numel(Shape(dims.begin(), dims.begin() + axis));
  const int64_t inner = shape_numel(Shape(dims.begin() + axis + 1, dims.end()));
  Shape out_shape = dims;
  if (keepdims) out_shape[static_cast<size_t>(axis)] = 1;
  else out_shape.erase(out_shape.begin() + axis);
  Tensor expected(DType::Int64, out_shape);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      int64_t best = 0;
      for (int64_t k = 1; k < n; ++k) {
        const double v = x.value_as_double((o * n + k) * inner + i), b = x.value_as_double((o * n + best) * inner + i);
        if ((find_max ? v > b : v < b) || (v == b && select_last)) best = k;
      }
      expected.data<int64_t>()[o * inner + i] = best;
    }
  }
  return expected;
}

TEST(ArgReduceOps, MatchNaiveScanWithTies) {
  // Few distinct values, so that ties are common and select_last_index matters.
  Tensor x(DType::Float32, {3, 13, 5});
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = static_cast<float>((i * 7919) % 4);
  for (const std::string op : {"ArgMax", "ArgMin"}) {
    for (const int64_t axis : {0, 1, 2, -1}) {
      for (const bool keepdims : {false, true}) {
        for (const bool select_last : {false, true}) {
          SCOPED_TRACE(op + " axis " + std::to_string(axis) + " keepdims " + std::to_string(keepdims) +
                       " select_last " + std::to_string(select_last));
          const auto out = run_node({.op = op,
                                     .inputs = {x},
                                     .attributes = {{"axis", axis},
                                                    {"keepdims", int64_t{keepdims}},
                                                    {"select_last_index", int64_t{select_last}}}});
          testing::expect_tensor_near(out[0], naive_arg_reduce(x, axis < 0 ? axis + 3 : axis, op == "ArgMax",
                                                               select_last, keepdims));
        }
      }
    }
  }
}

TEST(ArgReduceOps, HandComputedExampleWithIntegers) {
  const Tensor x = Tensor::from_vector<int64_t>({2, 3}, {4, 9, 9, -1, -5, 0});
  const auto max = run_node({.op = "ArgMax", .inputs = {x}, .attributes = {{"axis", int64_t{1}}}});
  testing::expect_tensor_near(max[0], Tensor::from_vector<int64_t>({2, 1}, {1, 2}));
  const auto min = run_node({.op = "ArgMin", .inputs = {x}, .attributes = {{"keepdims", int64_t{0}}}});
  testing::expect_tensor_near(min[0], Tensor::from_vector<int64_t>({3}, {1, 1, 1}));
}

TEST(ArgReduceOps, NaNIsTheExtreme) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = Tensor::from_vector<float>({4}, {1, nan, 3, nan});
  testing::expect_tensor_near(run_node({.op = "ArgMax", .inputs = {x}})[0], Tensor::from_vector<int64_t>({1}, {1}));
  const auto last = run_node({.op = "ArgMin", .inputs = {x}, .attributes = {{"select_last_index", int64_t{1}}}});
  testing::expect_tensor_near(last[0], Tensor::from_vector<int64_t>({1}, {3}));
}

TEST(ArgReduceOps, EmptyAxisIsAnError) {
  expect_error_containing({.op = "ArgMax", .inputs = {Tensor(DType::Float32, {0, 3})}}, "empty axis");
}

}  // namespace
}  // namespace kiln
