// RNN, GRU and LSTM against a naive loop in double that walks each (direction, batch item) through
// its own sequence one element at a time, with odd sizes, every direction, sequence_lens shorter
// than the sequence, initial states, peepholes, clip, both GRU reset orders, input_forget, the
// activation lists with their alpha/beta consumption, and the batch-major layout of opset 14.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "test_util.h"

namespace kiln {
namespace {

using testing::random_tensor;
using testing::run_node;

struct Activation {
  std::string name;
  double alpha = 0, beta = 0;
};

double naive_activation(const Activation& a, double x) {
  if (a.name == "Relu") return std::max(x, 0.0);
  if (a.name == "Tanh") return std::tanh(x);
  if (a.name == "Sigmoid") return 1 / (1 + std::exp(-x));
  if (a.name == "Affine") return a.alpha * x + a.beta;
  if (a.name == "LeakyRelu") return x >= 0 ? x : a.alpha * x;
  if (a.name == "ThresholdedRelu") return x >= a.alpha ? x : 0;
  if (a.name == "ScaledTanh") return a.alpha * std::tanh(a.beta * x);
  if (a.name == "HardSigmoid") return std::clamp(a.alpha * x + a.beta, 0.0, 1.0);
  if (a.name == "Elu") return x >= 0 ? x : a.alpha * (std::exp(x) - 1);
  if (a.name == "Softsign") return x / (1 + std::abs(x));
  if (a.name == "Softplus") return std::log(1 + std::exp(x));
  ADD_FAILURE() << "no naive activation " << a.name;
  return 0;
}

// One layer's inputs, time-major; undefined tensors are absent inputs.
struct Layer {
  std::string op;  // RNN, GRU or LSTM
  int64_t seq = 0, batch = 0, input = 0, hidden = 0;
  std::string direction = "forward";
  Tensor x, w, r, b, lens, h0, c0, p;
  float clip = 0;  // 0: no clip attribute
  bool linear_before_reset = false, input_forget = false;
  // The activations the naive loop applies, per direction; `activations` and the alpha/beta lists
  // are the attributes that select them (absent when empty).
  std::vector<std::vector<Activation>> naive_activations;
  std::vector<std::string> activations;
  std::vector<float> alphas, betas;

  int64_t gates() const { return op == "RNN" ? 1 : op == "GRU" ? 3 : 4; }
  int64_t directions() const { return direction == "bidirectional" ? 2 : 1; }
};

// Random weights for `op`; the optional inputs are left for each test to add.
Layer random_layer(const std::string& op, int64_t seq, int64_t batch, int64_t input, int64_t hidden,
                   const std::string& direction, uint32_t seed) {
  Layer l{.op = op, .seq = seq, .batch = batch, .input = input, .hidden = hidden, .direction = direction};
  const int64_t D = l.directions(), GH = l.gates() * hidden;
  l.x = random_tensor({seq, batch, input}, seed);
  l.w = random_tensor({D, GH, input}, seed + 1, -0.7f, 0.7f);
  l.r = random_tensor({D, GH, hidden}, seed + 2, -0.7f, 0.7f);
  const std::vector<Activation> defaults = op == "RNN"   ? std::vector<Activation>{{"Tanh"}}
                                           : op == "GRU" ? std::vector<Activation>{{"Sigmoid"}, {"Tanh"}}
                                                         : std::vector<Activation>{{"Sigmoid"}, {"Tanh"}, {"Tanh"}};
  l.naive_activations.assign(static_cast<size_t>(D), defaults);
  return l;
}

void add_bias_and_states(Layer& l, uint32_t seed) {
  const int64_t D = l.directions(), GH = l.gates() * l.hidden;
  l.b = random_tensor({D, 2 * GH}, seed);
  l.h0 = random_tensor({D, l.batch, l.hidden}, seed + 1);
  if (l.op == "LSTM") l.c0 = random_tensor({D, l.batch, l.hidden}, seed + 2);
}

struct Outputs {
  Tensor y, y_h, y_c;  // time-major
};

Outputs naive_layer(const Layer& l) {
  const int64_t D = l.directions(), H = l.hidden, GH = l.gates() * H, I = l.input;
  Outputs out{Tensor(DType::Float32, {l.seq, D, l.batch, H}), Tensor(DType::Float32, {D, l.batch, H}),
              Tensor(DType::Float32, {D, l.batch, H})};
  std::fill_n(out.y.data<float>(), out.y.numel(), 0.f);
  auto at = [](const Tensor& t, int64_t i) { return t.defined() ? t.value_as_double(i) : 0.0; };
  auto clip = [&](double v) { return l.clip > 0 ? std::clamp(v, -double(l.clip), double(l.clip)) : v; };
  for (int64_t d = 0; d < D; ++d) {
    const bool reverse = d == 1 || l.direction == "reverse";
    const auto& act = l.naive_activations[static_cast<size_t>(d)];
    auto f = [&](size_t k, double v) { return naive_activation(act[k], clip(v)); };
    for (int64_t b = 0; b < l.batch; ++b) {
      const int64_t length = l.lens.defined() ? l.lens.data<int32_t>()[b] : l.seq;
      std::vector<double> h(static_cast<size_t>(H)), c(static_cast<size_t>(H));
      for (int64_t j = 0; j < H; ++j) {
        h[j] = at(l.h0, (d * l.batch + b) * H + j);
        c[j] = at(l.c0, (d * l.batch + b) * H + j);
      }
      for (int64_t s = 0; s < length; ++s) {
        const int64_t t = reverse ? length - 1 - s : s;
        // x_part[row] = x W^T + Wb, h_part[row] = h R^T + Rb, with state `state` (h, or r * h for GRU).
        auto x_part = [&](int64_t row) {
          double sum = at(l.b, d * 2 * GH + row);
          for (int64_t k = 0; k < I; ++k)
            sum += l.x.value_as_double((t * l.batch + b) * I + k) * l.w.value_as_double((d * GH + row) * I + k);
          return sum;
        };
        auto h_part = [&](int64_t row, const std::vector<double>& state) {
          double sum = at(l.b, d * 2 * GH + GH + row);
          for (int64_t k = 0; k < H; ++k) sum += state[k] * l.r.value_as_double((d * GH + row) * H + k);
          return sum;
        };
        std::vector<double> next(static_cast<size_t>(H));
        if (l.op == "RNN") {
          for (int64_t j = 0; j < H; ++j) next[j] = f(0, x_part(j) + h_part(j, h));
        } else if (l.op == "GRU") {
          std::vector<double> z(static_cast<size_t>(H)), reset_h(static_cast<size_t>(H)), reset(static_cast<size_t>(H));
          for (int64_t j = 0; j < H; ++j) {
            z[j] = f(0, x_part(j) + h_part(j, h));
            reset[j] = f(0, x_part(H + j) + h_part(H + j, h));
            reset_h[j] = reset[j] * h[j];
          }
          for (int64_t j = 0; j < H; ++j) {
            const double candidate = l.linear_before_reset ? f(1, x_part(2 * H + j) + reset[j] * h_part(2 * H + j, h))
                                                           : f(1, x_part(2 * H + j) + h_part(2 * H + j, reset_h));
            next[j] = (1 - z[j]) * candidate + z[j] * h[j];
          }
        } else {
          for (int64_t j = 0; j < H; ++j) {
            const double input = f(0, x_part(j) + h_part(j, h) + at(l.p, d * 3 * H + j) * c[j]);
            const double forget = l.input_forget ? 1 - input
                                                  : f(0, x_part(2 * H + j) + h_part(2 * H + j, h) +
                                                             at(l.p, d * 3 * H + 2 * H + j) * c[j]);
            c[j] = forget * c[j] + input * f(1, x_part(3 * H + j) + h_part(3 * H + j, h));
            const double output = f(0, x_part(H + j) + h_part(H + j, h) + at(l.p, d * 3 * H + H + j) * c[j]);
            next[j] = output * naive_activation(act[2], c[j]);
          }
        }
        h = next;
        for (int64_t j = 0; j < H; ++j) out.y.data<float>()[((t * D + d) * l.batch + b) * H + j] = float(h[j]);
      }
      for (int64_t j = 0; j < H; ++j) {
        out.y_h.data<float>()[(d * l.batch + b) * H + j] = float(h[j]);
        out.y_c.data<float>()[(d * l.batch + b) * H + j] = float(c[j]);
      }
    }
  }
  return out;
}

// `t` with its dims reordered: result dim i is t's dim perm[i].
Tensor permuted(const Tensor& t, const std::vector<size_t>& perm) {
  if (!t.defined()) return t;
  Shape shape;
  for (size_t p : perm) shape.push_back(t.dim(p));
  Tensor out(DType::Float32, shape);
  std::vector<int64_t> strides(t.rank(), 1);
  for (size_t i = t.rank() - 1; i > 0; --i) strides[i - 1] = strides[i] * t.dim(i);
  for (int64_t i = 0; i < out.numel(); ++i) {
    int64_t rest = i, source = 0;
    for (size_t k = out.rank(); k-- > 0;) {
      source += rest % shape[k] * strides[perm[k]];
      rest /= shape[k];
    }
    out.data<float>()[i] = t.data<float>()[source];
  }
  return out;
}

testing::NodeSpec node_spec(const Layer& l, int64_t opset, bool batch_major) {
  testing::NodeSpec spec{.op = l.op, .opset = opset, .outputs = l.op == "LSTM" ? 3u : 2u};
  const std::vector<size_t> swap01 = {1, 0, 2};
  spec.inputs = {batch_major ? permuted(l.x, swap01) : l.x, l.w, l.r, l.b, l.lens,
                 batch_major ? permuted(l.h0, swap01) : l.h0};
  if (l.op == "LSTM") spec.inputs.insert(spec.inputs.end(), {batch_major ? permuted(l.c0, swap01) : l.c0, l.p});
  while (!spec.inputs.back().defined()) spec.inputs.pop_back();
  spec.attributes = {{"hidden_size", l.hidden}, {"direction", l.direction}};
  if (batch_major) spec.attributes["layout"] = int64_t{1};
  if (l.clip > 0) spec.attributes["clip"] = l.clip;
  if (l.op == "GRU") spec.attributes["linear_before_reset"] = int64_t{l.linear_before_reset};
  if (l.op == "LSTM") spec.attributes["input_forget"] = int64_t{l.input_forget};
  if (!l.activations.empty()) spec.attributes["activations"] = l.activations;
  if (!l.alphas.empty()) spec.attributes["activation_alpha"] = l.alphas;
  if (!l.betas.empty()) spec.attributes["activation_beta"] = l.betas;
  return spec;
}

void expect_matches_naive(const Layer& l, int64_t opset = 17, bool batch_major = false) {
  SCOPED_TRACE(l.op + " " + l.direction + " opset " + std::to_string(opset) + (batch_major ? " batch-major" : ""));
  const Outputs expected = naive_layer(l);
  const auto out = run_node(node_spec(l, opset, batch_major));
  const std::vector<size_t> swap01 = {1, 0, 2}, y_batch_major = {2, 0, 1, 3};
  testing::expect_tensor_near(out[0], batch_major ? permuted(expected.y, y_batch_major) : expected.y, 2e-5, 2e-5);
  testing::expect_tensor_near(out[1], batch_major ? permuted(expected.y_h, swap01) : expected.y_h, 2e-5, 2e-5);
  if (l.op == "LSTM")
    testing::expect_tensor_near(out[2], batch_major ? permuted(expected.y_c, swap01) : expected.y_c, 2e-5, 2e-5);
}

const std::vector<std::string> kDirections = {"forward", "reverse", "bidirectional"};

TEST(RnnOps, SimpleRnnEveryDirection) {
  for (const std::string& direction : kDirections) {
    Layer l = random_layer("RNN", 5, 3, 7, 13, direction, 10);
    expect_matches_naive(l);
    add_bias_and_states(l, 20);
    expect_matches_naive(l);
  }
}

TEST(RnnOps, GruBothResetOrders) {
  for (const std::string& direction : kDirections)
    for (const bool linear_before_reset : {false, true}) {
      Layer l = random_layer("GRU", 4, 3, 5, 7, direction, 30);
      l.linear_before_reset = linear_before_reset;
      add_bias_and_states(l, 40);
      expect_matches_naive(l);
    }
}

TEST(RnnOps, LstmWithPeepholesAndInputForget) {
  for (const std::string& direction : kDirections)
    for (const bool input_forget : {false, true}) {
      Layer l = random_layer("LSTM", 4, 3, 5, 7, direction, 50);
      l.input_forget = input_forget;
      add_bias_and_states(l, 60);
      l.p = random_tensor({l.directions(), 3 * l.hidden}, 70);
      expect_matches_naive(l);
    }
}

TEST(RnnOps, SingleUnitSizes) {
  for (const std::string op : {"RNN", "GRU", "LSTM"})
    expect_matches_naive(random_layer(op, 1, 1, 1, 1, "bidirectional", 80));
}

// Items stop at their own length (0 included): Y is zero past it, Y_h and Y_c hold the state after
// the item's last step, and the backward direction starts from that last step.
TEST(RnnOps, SequenceLensShorterThanSequence) {
  for (const std::string op : {"RNN", "GRU", "LSTM"}) {
    Layer l = random_layer(op, 6, 4, 3, 5, "bidirectional", 90);
    add_bias_and_states(l, 100);
    l.lens = Tensor::from_vector<int32_t>({4}, {6, 2, 0, 5});
    expect_matches_naive(l);
    l = random_layer(op, 6, 4, 3, 5, "reverse", 110);
    l.lens = Tensor::from_vector<int32_t>({4}, {3, 6, 1, 1});
    expect_matches_naive(l);
  }
}

TEST(RnnOps, ClipBoundsEveryPreActivation) {
  for (const std::string op : {"RNN", "GRU", "LSTM"}) {
    Layer l = random_layer(op, 5, 2, 6, 3, "bidirectional", 120);
    add_bias_and_states(l, 130);
    l.x = random_tensor({l.seq, l.batch, l.input}, 140, -4.f, 4.f);
    l.clip = 0.75f;
    if (op == "LSTM") l.p = random_tensor({2, 3 * l.hidden}, 150);
    expect_matches_naive(l);
  }
  // With an unbounded activation the clip shows directly in the output.
  Layer l = random_layer("RNN", 3, 2, 4, 5, "forward", 160);
  l.x = random_tensor({l.seq, l.batch, l.input}, 170, -4.f, 4.f);
  l.clip = 0.5f;
  l.activations = {"Relu"};
  l.naive_activations = {{{"Relu"}}};
  const auto out = run_node(node_spec(l, 17, false));
  const float* y = out[0].data<float>();
  EXPECT_EQ(*std::max_element(y, y + out[0].numel()), 0.5f);
  expect_matches_naive(l);
}

TEST(RnnOps, EveryActivationWithAlphaAndBeta) {
  for (const std::string name : {"Relu", "Tanh", "Sigmoid", "Affine", "LeakyRelu", "ThresholdedRelu", "ScaledTanh",
                                 "HardSigmoid", "Elu", "Softsign", "Softplus"}) {
    SCOPED_TRACE(name);
    Layer l = random_layer("RNN", 4, 3, 5, 6, "forward", 180);
    l.activations = {name};
    l.alphas = {0.4f};
    l.betas = {0.3f};
    l.naive_activations = {{{name, 0.4f, 0.3f}}};
    expect_matches_naive(l);
  }
}

// alpha and beta values go, in order, to the activations that take them; the others use the
// defaults of the ONNX op of the same name. Names match regardless of case.
TEST(RnnOps, ActivationListsConsumeAlphaBetaInOrder) {
  Layer gru = random_layer("GRU", 3, 2, 4, 5, "bidirectional", 190);
  gru.activations = {"HardSigmoid", "leakyrelu", "Sigmoid", "ScaledTanh"};
  gru.alphas = {0.3f, 0.05f, 0.9f};
  gru.betas = {0.4f, 1.5f};
  gru.naive_activations = {{{"HardSigmoid", 0.3f, 0.4f}, {"LeakyRelu", 0.05f}}, {{"Sigmoid"}, {"ScaledTanh", 0.9f, 1.5f}}};
  expect_matches_naive(gru);

  Layer lstm = random_layer("LSTM", 3, 2, 4, 5, "forward", 200);
  lstm.activations = {"HardSigmoid", "LeakyRelu", "Elu"};
  lstm.naive_activations = {{{"HardSigmoid", 0.2, 0.5}, {"LeakyRelu", 0.01}, {"Elu", 1.0}}};
  expect_matches_naive(lstm);

  // One direction's list serves both directions.
  Layer rnn = random_layer("RNN", 3, 2, 4, 5, "bidirectional", 210);
  rnn.activations = {"Softsign"};
  rnn.naive_activations = {{{"Softsign"}}, {{"Softsign"}}};
  expect_matches_naive(rnn);
}

TEST(RnnOps, BatchMajorLayoutAndOpset7) {
  for (const std::string op : {"RNN", "GRU", "LSTM"}) {
    Layer l = random_layer(op, 5, 3, 4, 6, "bidirectional", 220);
    add_bias_and_states(l, 230);
    l.lens = Tensor::from_vector<int32_t>({3}, {5, 3, 1});
    if (op == "LSTM") l.p = random_tensor({2, 3 * l.hidden}, 240);
    expect_matches_naive(l, 14, true);
    expect_matches_naive(l, 7, false);
  }
}

TEST(RnnOps, HiddenSizeTakenFromRWhenAbsent) {
  Layer l = random_layer("GRU", 3, 2, 4, 5, "forward", 250);
  testing::NodeSpec spec = node_spec(l, 17, false);
  spec.attributes.erase("hidden_size");
  testing::expect_tensor_near(run_node(spec)[1], naive_layer(l).y_h, 2e-5, 2e-5);
}

TEST(RnnOps, RejectsBadShapesAndAttributes) {
  const Layer l = random_layer("LSTM", 3, 2, 4, 5, "forward", 260);
  testing::NodeSpec spec = node_spec(l, 17, false);
  spec.inputs[1] = random_tensor({1, 19, 4}, 1);
  testing::expect_node_error(spec, ErrorCode::InvalidArgument, "W must have shape [1,20,4], got [1,19,4]");

  spec = node_spec(l, 17, false);
  spec.inputs.resize(5);
  spec.inputs[4] = Tensor::from_vector<int32_t>({2}, {3, 4});
  testing::expect_node_error(spec, ErrorCode::InvalidArgument, "sequence_lens[1] = 4 is outside [0, 3]");

  spec = node_spec(l, 17, false);
  spec.attributes["direction"] = std::string("sideways");
  testing::expect_node_error(spec, ErrorCode::InvalidModel, "direction must be forward, reverse or bidirectional");

  spec = node_spec(l, 17, false);
  spec.attributes["activations"] = std::vector<std::string>{"Sigmoid", "Tanh"};
  testing::expect_node_error(spec, ErrorCode::InvalidModel, "activations lists 2 functions, expected 3 (3 per direction)");

  spec = node_spec(l, 17, false);
  spec.attributes["activations"] = std::vector<std::string>{"Sigmoid", "Tanh", "Swish"};
  testing::expect_node_error(spec, ErrorCode::InvalidModel, "unknown activation 'Swish'");

  spec = node_spec(l, 17, false);
  spec.attributes["clip"] = -1.f;
  testing::expect_node_error(spec, ErrorCode::InvalidModel, "clip must be positive");
}

}  // namespace
}  // namespace kiln
