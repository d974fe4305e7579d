#include <cmath>
#include <limits>
#include <optional>
#include <random>

#include "test_util.h"

namespace kiln {
namespace {

using namespace kiln::testing;

// One loss problem in double precision: input [N, C, d1..dk], targets [N, d1..dk], weights [C].
struct LossProblem {
  Shape shape;
  std::vector<double> input;
  std::vector<int64_t> target;
  std::vector<double> weight;  // empty: no weight input
};

// Random inputs in [-3, 3], targets in [0, C); every third target becomes `ignore_index` when given,
// so that ignored samples sit among counted ones. Weights are positive and distinct.
LossProblem make_problem(const Shape& shape, bool weighted, std::optional<int64_t> ignore_index, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> value(-3, 3), positive(0.1, 2);
  LossProblem p{shape, std::vector<double>(static_cast<size_t>(shape_numel(shape))), {}, {}};
  for (double& v : p.input) v = value(rng);
  const int64_t classes = shape[1];
  std::uniform_int_distribution<int64_t> label(0, classes - 1);
  p.target.resize(static_cast<size_t>(shape_numel(shape) / classes));
  for (size_t i = 0; i < p.target.size(); ++i) p.target[i] = ignore_index && i % 3 == 1 ? *ignore_index : label(rng);
  if (weighted)
    for (int64_t c = 0; c < classes; ++c) p.weight.push_back(positive(rng));
  return p;
}

Shape target_shape(const Shape& shape) {
  Shape target = {shape[0]};
  target.insert(target.end(), shape.begin() + 2, shape.end());
  return target;
}

// log(softmax) along the class axis, straight from the definition.
std::vector<double> naive_log_softmax(const LossProblem& p) {
  const int64_t batch = p.shape[0], classes = p.shape[1], spatial = shape_numel(p.shape) / (batch * classes);
  std::vector<double> out(p.input.size());
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t d = 0; d < spatial; ++d) {
      double sum = 0;
      for (int64_t c = 0; c < classes; ++c) sum += std::exp(p.input[static_cast<size_t>((n * classes + c) * spatial + d)]);
      for (int64_t c = 0; c < classes; ++c) {
        const auto i = static_cast<size_t>((n * classes + c) * spatial + d);
        out[i] = std::log(std::exp(p.input[i]) / sum);
      }
    }
  return out;
}

// The ONNX definition: per-sample -weight[t] * log_prob[n, t, d], 0 where ignored; mean divides by
// the summed weights of the samples that count.
template <class T>
Tensor naive_nll(const std::vector<double>& log_prob, const LossProblem& p, std::optional<int64_t> ignore_index,
                 const std::string& reduction) {
  const int64_t classes = p.shape[1];
  const int64_t spatial = static_cast<int64_t>(p.target.size()) / p.shape[0];
  std::vector<T> losses;
  double loss_sum = 0, weight_sum = 0;
  for (size_t i = 0; i < p.target.size(); ++i) {
    const int64_t t = p.target[i], n = static_cast<int64_t>(i) / spatial, d = static_cast<int64_t>(i) % spatial;
    double loss = 0;
    if (t != ignore_index) {
      const double w = p.weight.empty() ? 1 : p.weight[static_cast<size_t>(t)];
      loss = -w * log_prob[static_cast<size_t>((n * classes + t) * spatial + d)];
      weight_sum += w;
    }
    losses.push_back(static_cast<T>(loss));
    loss_sum += loss;
  }
  if (reduction == "none") return Tensor::from_vector<T>(target_shape(p.shape), losses);
  return Tensor::scalar<T>(static_cast<T>(reduction == "sum" ? loss_sum : loss_sum / weight_sum));
}

template <class T>
Tensor to_tensor(const Shape& shape, const std::vector<double>& values) {
  return Tensor::from_vector<T>(shape, std::vector<T>(values.begin(), values.end()));
}

template <class T, class Index>
NodeSpec loss_spec(const std::string& op, const LossProblem& p, std::optional<int64_t> ignore_index,
                   const std::string& reduction) {
  NodeSpec spec{.op = op,
                .inputs = {to_tensor<T>(p.shape, p.input),
                           Tensor::from_vector<Index>(target_shape(p.shape),
                                                      std::vector<Index>(p.target.begin(), p.target.end()))},
                .attributes = {{"reduction", reduction}},
                .opset = 13};
  if (!p.weight.empty()) spec.inputs.push_back(to_tensor<T>({p.shape[1]}, p.weight));
  if (ignore_index) spec.attributes["ignore_index"] = *ignore_index;
  return spec;
}

struct Variant {
  bool weighted;
  std::optional<int64_t> ignore_index;
  bool ignore_index_hit;  // whether some targets equal ignore_index
};

// Weights or not; ignore_index absent, set but never hit, hit (inside the class range and negative).
const std::vector<Variant> kVariants = {
    {false, std::nullopt, false}, {true, std::nullopt, false}, {false, 100, false},
    {true, 1, true},              {false, 2, true},            {true, -1, true},
};
const std::vector<Shape> kShapes = {{1, 1}, {3, 5}, {2, 3, 13}, {3, 4, 2, 5}, {2, 3, 1, 3, 2}};
const std::vector<std::string> kReductions = {"none", "sum", "mean"};

// Runs every shape, variant and reduction through `op` and compares with the naive loss of `log_prob`.
template <class T, class Index>
void check_all_cases(const std::string& op, double tolerance) {
  uint32_t seed = 1;
  for (const Shape& shape : kShapes)
    for (const Variant& v : kVariants)
      for (const std::string& reduction : kReductions) {
        SCOPED_TRACE(op + " " + shape_to_string(shape) + " reduction=" + reduction + " weighted=" +
                     std::to_string(v.weighted) + " ignore_index=" + (v.ignore_index ? std::to_string(*v.ignore_index) : "none"));
        // With one class, a hit ignore_index of 1 or 2 would be no valid class; -1 still is.
        const bool hit = v.ignore_index_hit && (shape[1] > *v.ignore_index || *v.ignore_index < 0);
        const LossProblem p = make_problem(shape, v.weighted, hit ? v.ignore_index : std::nullopt, seed++);
        const bool from_scores = op == "SoftmaxCrossEntropyLoss";
        const std::vector<double> log_prob = from_scores ? naive_log_softmax(p) : p.input;
        const auto out = run_node(loss_spec<T, Index>(op, p, v.ignore_index, reduction));
        expect_tensor_near(out[0], naive_nll<T>(log_prob, p, v.ignore_index, reduction), tolerance, tolerance);
      }
}

TEST(LossOps, NegativeLogLikelihoodLossMatchesDefinition) {
  check_all_cases<float, int64_t>("NegativeLogLikelihoodLoss", 1e-5);
  check_all_cases<double, int32_t>("NegativeLogLikelihoodLoss", 1e-12);
}

TEST(LossOps, SoftmaxCrossEntropyLossMatchesDefinition) {
  check_all_cases<float, int32_t>("SoftmaxCrossEntropyLoss", 1e-5);
  check_all_cases<double, int64_t>("SoftmaxCrossEntropyLoss", 1e-12);
}

TEST(LossOps, SoftmaxCrossEntropyLossReturnsLogProb) {
  const LossProblem p = make_problem({3, 7, 13}, true, 2, 42);
  for (const std::string& reduction : kReductions) {
    NodeSpec spec = loss_spec<float, int64_t>("SoftmaxCrossEntropyLoss", p, 2, reduction);
    spec.outputs = 2;
    const auto out = run_node(spec);
    const std::vector<double> log_prob = naive_log_softmax(p);
    expect_tensor_near(out[0], naive_nll<float>(log_prob, p, 2, reduction), 1e-5, 1e-5);
    expect_tensor_near(out[1], to_tensor<float>(p.shape, log_prob), 1e-5, 1e-5);
  }
}

TEST(LossOps, SoftmaxCrossEntropyLossIsStableForLargeScores) {
  // exp(1000) overflows float: only a max-shifted log-softmax gives these finite values.
  const Tensor scores = Tensor::from_vector<float>({2, 3}, {1000, 0, -1000, -1000, 999, 1000});
  const Tensor labels = Tensor::from_vector<int64_t>({2}, {1, 1});
  const auto out = run_node({.op = "SoftmaxCrossEntropyLoss",
                             .inputs = {scores, labels},
                             .attributes = {{"reduction", std::string("none")}},
                             .outputs = 2});
  const float log1pe = static_cast<float>(std::log1p(std::exp(-1.0)));
  expect_tensor_near(out[0], Tensor::from_vector<float>({2}, {1000, 1 + log1pe}), 1e-3, 1e-6);
  expect_tensor_near(out[1], Tensor::from_vector<float>({2, 3}, {0, -1000, -2000, -2000 - log1pe, -1 - log1pe, -log1pe}),
                     1e-3, 1e-6);
}

TEST(LossOps, MeanOverOnlyIgnoredTargetsIsNaN) {
  // As in PyTorch: the mean of no samples is 0 / 0.
  const Tensor input = Tensor::from_vector<float>({2, 2}, {-1, -2, -3, -4});
  const Tensor target = Tensor::from_vector<int64_t>({2}, {0, 0});
  const auto out =
      run_node({.op = "NegativeLogLikelihoodLoss", .inputs = {input, target}, .attributes = {{"ignore_index", int64_t{0}}}});
  EXPECT_TRUE(std::isnan(out[0].data<float>()[0]));
}

TEST(LossOps, DefaultReductionIsMeanAndOpset12Works) {
  const Tensor input = Tensor::from_vector<float>({2, 3}, {-1, -2, -3, -4, -5, -6});
  const Tensor target = Tensor::from_vector<int32_t>({2}, {2, 0});
  const Tensor weight = Tensor::from_vector<float>({3}, {0.5f, 1, 2});
  const auto out = run_node({.op = "NegativeLogLikelihoodLoss", .inputs = {input, target, weight}, .opset = 12});
  // (2 * 3 + 0.5 * 4) / (2 + 0.5)
  expect_tensor_near(out[0], Tensor::scalar<float>(3.2f));
}

TEST(LossOps, RejectsBadTargetsShapesAndAttributes) {
  const Tensor input = random_tensor({2, 3, 4}, 7);
  const Tensor target = Tensor::from_vector<int64_t>({2, 4}, {0, 1, 2, 0, 1, 2, 3, 0});
  for (const char* op : {"NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss"}) {
    SCOPED_TRACE(op);
    expect_node_error({.op = op, .inputs = {input, target}}, ErrorCode::InvalidArgument,
                      "target 3 at index 6 is outside [0, 3) and is not ignore_index");
    expect_node_error({.op = op, .inputs = {input, Tensor::from_vector<int64_t>({2, 3}, {0, 0, 0, 0, 0, 0})}},
                      ErrorCode::InvalidArgument, "target must have shape [2,4] for input [2,3,4], got [2,3]");
    expect_node_error({.op = op, .inputs = {input, target, random_tensor({4}, 8)}, .attributes = {{"ignore_index", int64_t{3}}}},
                      ErrorCode::InvalidArgument, "weight must have shape [3] (one value per class), got [4]");
    expect_node_error({.op = op, .inputs = {random_tensor({5}, 9), Tensor::from_vector<int64_t>({}, {0})}},
                      ErrorCode::InvalidArgument, "input must have rank >= 2");
    expect_node_error({.op = op, .inputs = {input, target}, .attributes = {{"reduction", std::string("max")}}},
                      ErrorCode::InvalidModel, "reduction 'max' is not one of none, sum, mean");
  }
}

}  // namespace
}  // namespace kiln
