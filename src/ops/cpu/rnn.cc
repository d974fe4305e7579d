// RNN, GRU and LSTM from opset 7 (opset 14 adds layout = 1, batch-major X, Y and states). One kernel
// template resolves the attributes into a kernels::RnnConfig once, checks the input shapes per run
// and hands the buffers to kernels::compute_rnn. Inputs: X, W, R, B, sequence_lens, initial_h,
// initial_c, P; outputs Y, Y_h, Y_c, each optional after R.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/cpu/rnn_ref.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

using kernels::RnnActivation;
using kernels::RnnActivationKind;
using kernels::RnnCell;

// Which of activation_alpha and activation_beta an activation consumes, and its defaults (those of
// the ONNX op of the same name) when the lists run out.
struct ActivationSpec {
  const char* name;
  RnnActivationKind kind;
  bool uses_alpha, uses_beta;
  float default_alpha, default_beta;
};

constexpr ActivationSpec kActivationSpecs[] = {
    {"Relu", RnnActivationKind::Relu, false, false, 0.f, 0.f},
    {"Tanh", RnnActivationKind::Tanh, false, false, 0.f, 0.f},
    {"Sigmoid", RnnActivationKind::Sigmoid, false, false, 0.f, 0.f},
    {"Affine", RnnActivationKind::Affine, true, true, 1.f, 0.f},
    {"LeakyRelu", RnnActivationKind::LeakyRelu, true, false, 0.01f, 0.f},
    {"ThresholdedRelu", RnnActivationKind::ThresholdedRelu, true, false, 1.f, 0.f},
    {"ScaledTanh", RnnActivationKind::ScaledTanh, true, true, 1.f, 1.f},
    {"HardSigmoid", RnnActivationKind::HardSigmoid, true, true, 0.2f, 0.5f},
    {"Elu", RnnActivationKind::Elu, true, false, 1.f, 0.f},
    {"Softsign", RnnActivationKind::Softsign, false, false, 0.f, 0.f},
    {"Softplus", RnnActivationKind::Softplus, false, false, 0.f, 0.f},
};

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](unsigned char x, unsigned char y) { return std::tolower(x) == std::tolower(y); });
}

const ActivationSpec& activation_spec(const std::string& name) {
  for (const ActivationSpec& spec : kActivationSpecs)
    if (equal_ignoring_case(name, spec.name)) return spec;
  throw Error(ErrorCode::InvalidModel, "unknown activation '" + name + "'");
}

// The activations of every direction, direction 0 first. One direction's list serves both
// directions of a bidirectional layer. alpha and beta values are consumed in list order by the
// activations that take them.
std::vector<RnnActivation> parse_activations(const KernelInfo& info, RnnCell cell, int64_t directions) {
  const size_t per_direction = static_cast<size_t>(kernels::rnn_activation_count(cell));
  const std::vector<std::string> defaults = cell == RnnCell::Simple ? std::vector<std::string>{"Tanh"}
                                            : cell == RnnCell::Gru  ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                                                    : std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"};
  std::vector<std::string> names = info.attr_strings("activations", defaults);
  const size_t expected = per_direction * static_cast<size_t>(directions);
  if (names.size() == per_direction && directions == 2) {
    const std::vector<std::string> one_direction = names;
    names.insert(names.end(), one_direction.begin(), one_direction.end());
  }
  if (names.size() != expected)
    throw Error(ErrorCode::InvalidModel, "activations lists " + std::to_string(names.size()) + " functions, expected " +
                                             std::to_string(expected) + " (" + std::to_string(per_direction) +
                                             " per direction)");
  const std::vector<float> alphas = info.attr_floats("activation_alpha", {});
  const std::vector<float> betas = info.attr_floats("activation_beta", {});
  size_t next_alpha = 0, next_beta = 0;
  std::vector<RnnActivation> activations;
  for (const std::string& name : names) {
    const ActivationSpec& spec = activation_spec(name);
    RnnActivation act{.kind = spec.kind, .alpha = spec.default_alpha, .beta = spec.default_beta};
    if (spec.uses_alpha && next_alpha < alphas.size()) act.alpha = alphas[next_alpha++];
    if (spec.uses_beta && next_beta < betas.size()) act.beta = betas[next_beta++];
    activations.push_back(act);
  }
  return activations;
}

// Throws unless `t` has exactly `shape`.
void expect_shape(const Tensor& t, const Shape& shape, const char* name) {
  if (t.shape() != shape)
    throw Error(ErrorCode::InvalidArgument, std::string(name) + " must have shape " + shape_to_string(shape) + ", got " +
                                                shape_to_string(t.shape()));
}

bool has_output(const KernelInfo& info, size_t i) {
  const auto& outputs = info.node().outputs;
  return i < outputs.size() && !outputs[i].empty();
}

template <RnnCell kCell>
class RecurrentKernel final : public OpKernel {
 public:
  explicit RecurrentKernel(const KernelInfo& info)
      : hidden_size_(info.attr_int("hidden_size", 0)),
        want_y_(has_output(info, 0)),
        want_y_h_(has_output(info, 1)),
        want_y_c_(kCell == RnnCell::Lstm && has_output(info, 2)) {
    const std::string direction = info.attr_string("direction", "forward");
    if (direction != "forward" && direction != "reverse" && direction != "bidirectional")
      throw Error(ErrorCode::InvalidModel, "direction must be forward, reverse or bidirectional, got '" + direction + "'");
    if (info.has_attr("hidden_size") && hidden_size_ <= 0)
      throw Error(ErrorCode::InvalidModel, "hidden_size must be positive, got " + std::to_string(hidden_size_));
    const int64_t layout = info.opset() >= 14 ? info.attr_int("layout", 0) : 0;
    if (layout != 0 && layout != 1)
      throw Error(ErrorCode::InvalidModel, "layout must be 0 or 1, got " + std::to_string(layout));
    config_.cell = kCell;
    config_.directions = direction == "bidirectional" ? 2 : 1;
    config_.reverse = direction == "reverse";
    config_.batch_major = layout == 1;
    if (info.has_attr("clip")) {
      config_.clip = info.attr_float("clip");
      if (!(config_.clip > 0.f))
        throw Error(ErrorCode::InvalidModel, "clip must be positive, got " + std::to_string(config_.clip));
    }
    config_.linear_before_reset = kCell == RnnCell::Gru && info.attr_int("linear_before_reset", 0) != 0;
    config_.input_forget = kCell == RnnCell::Lstm && info.attr_int("input_forget", 0) != 0;
    config_.activations = parse_activations(info, kCell, config_.directions);
  }

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(1);
    const Tensor& r = ctx.input(2);
    if (x.rank() != 3 || w.rank() != 3 || r.rank() != 3)
      throw Error(ErrorCode::InvalidArgument, "X, W and R must be 3-D, got X " + shape_to_string(x.shape()) + ", W " +
                                                  shape_to_string(w.shape()) + " and R " + shape_to_string(r.shape()));
    kernels::RnnConfig c = config_;
    c.seq_length = c.batch_major ? x.dim(1) : x.dim(0);
    c.batch = c.batch_major ? x.dim(0) : x.dim(1);
    c.input_size = x.dim(2);
    c.hidden_size = hidden_size_ > 0 ? hidden_size_ : r.dim(2);
    const int64_t D = c.directions, H = c.hidden_size, GH = kernels::rnn_gate_count(kCell) * H;
    expect_shape(w, {D, GH, c.input_size}, "W");
    expect_shape(r, {D, GH, H}, "R");
    const Shape state_shape = c.batch_major ? Shape{c.batch, D, H} : Shape{D, c.batch, H};

    kernels::RnnBuffers io;
    io.x = x.data<float>();
    io.w = w.data<float>();
    io.r = r.data<float>();
    if (ctx.has_input(3)) {
      expect_shape(ctx.input(3), {D, 2 * GH}, "B");
      io.bias = ctx.input(3).data<float>();
    }
    if (ctx.has_input(4)) io.sequence_lens = checked_sequence_lens(ctx.input(4), c);
    if (ctx.has_input(5)) {
      expect_shape(ctx.input(5), state_shape, "initial_h");
      io.initial_h = ctx.input(5).data<float>();
    }
    if (kCell == RnnCell::Lstm && ctx.has_input(6)) {
      expect_shape(ctx.input(6), state_shape, "initial_c");
      io.initial_c = ctx.input(6).data<float>();
    }
    if (kCell == RnnCell::Lstm && ctx.has_input(7)) {
      expect_shape(ctx.input(7), {D, 3 * H}, "P");
      io.peepholes = ctx.input(7).data<float>();
    }
    const Shape y_shape = c.batch_major ? Shape{c.batch, c.seq_length, D, H} : Shape{c.seq_length, D, c.batch, H};
    if (want_y_) io.y = ctx.allocate_output(0, DType::Float32, y_shape).data<float>();
    if (want_y_h_) io.y_h = ctx.allocate_output(1, DType::Float32, state_shape).data<float>();
    if (want_y_c_) io.y_c = ctx.allocate_output(2, DType::Float32, state_shape).data<float>();
    kernels::compute_rnn(c, io, ctx.pool());
  }

 private:
  static const int32_t* checked_sequence_lens(const Tensor& lens, const kernels::RnnConfig& c) {
    if (lens.dtype() != DType::Int32)
      throw Error(ErrorCode::InvalidArgument, std::string("sequence_lens must be int32, got ") + dtype_name(lens.dtype()));
    expect_shape(lens, {c.batch}, "sequence_lens");
    const int32_t* values = lens.data<int32_t>();
    for (int64_t b = 0; b < c.batch; ++b)
      if (values[b] < 0 || values[b] > c.seq_length)
        throw Error(ErrorCode::InvalidArgument, "sequence_lens[" + std::to_string(b) + "] = " + std::to_string(values[b]) +
                                                    " is outside [0, " + std::to_string(c.seq_length) + "]");
    return values;
  }

  int64_t hidden_size_;  // 0: taken from R
  bool want_y_, want_y_h_, want_y_c_;
  kernels::RnnConfig config_;
};

using RnnKernel = RecurrentKernel<RnnCell::Simple>;
using GruKernel = RecurrentKernel<RnnCell::Gru>;
using LstmKernel = RecurrentKernel<RnnCell::Lstm>;

KILN_KERNEL(RnnKernel, {.op = "RNN", .since = 7, .types = types::kFloat});
KILN_KERNEL(GruKernel, {.op = "GRU", .since = 7, .types = types::kFloat});
KILN_KERNEL(LstmKernel, {.op = "LSTM", .since = 7, .types = types::kFloat});

}  // namespace
}  // namespace kiln::ops
