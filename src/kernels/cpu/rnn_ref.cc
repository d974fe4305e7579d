#include "kernels/cpu/rnn_ref.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/gemm_ref.h"

namespace kiln::kernels {

float RnnActivation::operator()(float x) const {
  switch (kind) {
    case RnnActivationKind::Relu: return x < 0.f ? 0.f : x;
    case RnnActivationKind::Tanh: return std::tanh(x);
    case RnnActivationKind::Sigmoid: {
      // Both branches exponentiate a non-positive number, so neither overflows.
      if (x >= 0.f) return 1.f / (1.f + std::exp(-x));
      const float e = std::exp(x);
      return e / (1.f + e);
    }
    case RnnActivationKind::Affine: return alpha * x + beta;
    case RnnActivationKind::LeakyRelu: return x >= 0.f ? x : alpha * x;
    // >= as the RNN ops' own table defines it (the ThresholdedRelu op uses >).
    case RnnActivationKind::ThresholdedRelu: return x >= alpha ? x : 0.f;
    case RnnActivationKind::ScaledTanh: return alpha * std::tanh(beta * x);
    case RnnActivationKind::HardSigmoid: return std::clamp(alpha * x + beta, 0.f, 1.f);
    case RnnActivationKind::Elu: return x >= 0.f ? x : alpha * std::expm1(x);
    case RnnActivationKind::Softsign: return x / (1.f + std::abs(x));
    case RnnActivationKind::Softplus: return std::max(x, 0.f) + std::log1p(std::exp(-std::abs(x)));
  }
  return x;
}

int64_t rnn_gate_count(RnnCell cell) {
  switch (cell) {
    case RnnCell::Simple: return 1;
    case RnnCell::Gru: return 3;
    case RnnCell::Lstm: return 4;
  }
  return 1;
}

int64_t rnn_activation_count(RnnCell cell) {
  switch (cell) {
    case RnnCell::Simple: return 1;
    case RnnCell::Gru: return 2;
    case RnnCell::Lstm: return 3;
  }
  return 1;
}

namespace {

// Row strides of each tensor, in rows of input_size (X) or hidden_size (everything else), so that
// one walk serves both layouts.
struct Strides {
  int64_t x_time, x_batch;
  int64_t y_time, y_direction, y_batch;
  int64_t state_direction, state_batch;  // initial_h, initial_c, Y_h, Y_c
};

Strides layout_strides(const RnnConfig& c) {
  if (c.batch_major)
    return {.x_time = 1, .x_batch = c.seq_length,
            .y_time = c.directions, .y_direction = 1, .y_batch = c.seq_length * c.directions,
            .state_direction = 1, .state_batch = c.directions};
  return {.x_time = c.batch, .x_batch = 1,
          .y_time = c.directions * c.batch, .y_direction = c.batch, .y_batch = 1,
          .state_direction = c.batch, .state_batch = 1};
}

// One direction's weights, with the biases that can be folded into the pre-activations summed.
struct DirectionParams {
  const float* r;                 // [gates * hidden, hidden]
  std::vector<float> gate_bias;   // [gates * hidden], added to each step's input projection
  const float* reset_bias;        // GRU with linear_before_reset: Rbh, which the reset gate scales; else null
  const float* peepholes;         // [3 * hidden] or null
  const RnnActivation* act;       // f, g, h
};

DirectionParams direction_params(const RnnConfig& c, const RnnBuffers& io, int64_t d) {
  const int64_t H = c.hidden_size, GH = rnn_gate_count(c.cell) * H;
  DirectionParams p{.r = io.r + d * GH * H, .gate_bias = std::vector<float>(static_cast<size_t>(GH), 0.f),
                    .reset_bias = nullptr, .peepholes = io.peepholes ? io.peepholes + d * 3 * H : nullptr,
                    .act = c.activations.data() + d * rnn_activation_count(c.cell)};
  if (io.bias) {
    const float* wb = io.bias + d * 2 * GH;
    const float* rb = wb + GH;
    const bool keep_reset_bias = c.cell == RnnCell::Gru && c.linear_before_reset;
    for (int64_t i = 0; i < GH; ++i) p.gate_bias[i] = wb[i] + (keep_reset_bias && i >= 2 * H ? 0.f : rb[i]);
    if (keep_reset_bias) p.reset_bias = rb + 2 * H;
  }
  return p;
}

// The buffers of one step over the whole batch, each [batch, n] with n = gates * hidden for
// `gates`, hidden otherwise. A step reads the previous state and writes the next for every row;
// the driver keeps only the rows still inside their sequence.
struct StepBuffers {
  float* gates;  // in: the input projection plus folded biases; clobbered
  const float* h_prev;
  const float* c_prev;
  float* h_next;
  float* c_next;
  float* scratch;
};

float clip_to(float x, float bound) { return std::clamp(x, -bound, bound); }

void simple_step(const RnnConfig& c, const DirectionParams& p, const StepBuffers& s) {
  const int64_t H = c.hidden_size;
  gemm_ref(false, true, c.batch, H, H, 1.f, s.h_prev, H, p.r, H, 1.f, s.gates, H);
  for (int64_t i = 0; i < c.batch * H; ++i) s.h_next[i] = p.act[0](clip_to(s.gates[i], c.clip));
}

// z = f(update), r = f(reset), h~ = g(candidate) with r applied to the previous state before the
// recurrent product, or to the product (plus Rbh) with linear_before_reset; h = (1 - z) h~ + z h_prev.
void gru_step(const RnnConfig& c, const DirectionParams& p, const StepBuffers& s) {
  const int64_t H = c.hidden_size, GH = 3 * H;
  const float* r_candidate = p.r + 2 * H * H;
  gemm_ref(false, true, c.batch, 2 * H, H, 1.f, s.h_prev, H, p.r, H, 1.f, s.gates, GH);
  if (c.linear_before_reset)
    gemm_ref(false, true, c.batch, H, H, 1.f, s.h_prev, H, r_candidate, H, 0.f, s.scratch, H);
  for (int64_t b = 0; b < c.batch; ++b) {
    float* g = s.gates + b * GH;
    float* scratch = s.scratch + b * H;
    const float* h_prev = s.h_prev + b * H;
    for (int64_t j = 0; j < H; ++j) {
      g[j] = p.act[0](clip_to(g[j], c.clip));
      const float reset = p.act[0](clip_to(g[H + j], c.clip));
      if (c.linear_before_reset)
        g[2 * H + j] += reset * (scratch[j] + p.reset_bias[j]);
      else
        scratch[j] = reset * h_prev[j];
    }
  }
  if (!c.linear_before_reset)
    gemm_ref(false, true, c.batch, H, H, 1.f, s.scratch, H, r_candidate, H, 1.f, s.gates + 2 * H, GH);
  for (int64_t b = 0; b < c.batch; ++b) {
    const float* g = s.gates + b * GH;
    for (int64_t j = 0; j < H; ++j) {
      const float update = g[j], candidate = p.act[1](clip_to(g[2 * H + j], c.clip));
      s.h_next[b * H + j] = (1.f - update) * candidate + update * s.h_prev[b * H + j];
    }
  }
}

// i = f(. + Pi c_prev), f = f(. + Pf c_prev) or 1 - i, c = f c_prev + i g(.), o = f(. + Po c),
// h = o h(c).
void lstm_step(const RnnConfig& c, const DirectionParams& p, const StepBuffers& s) {
  const int64_t H = c.hidden_size, GH = 4 * H;
  gemm_ref(false, true, c.batch, GH, H, 1.f, s.h_prev, H, p.r, H, 1.f, s.gates, GH);
  auto peephole = [&](int64_t gate, int64_t j) { return p.peepholes ? p.peepholes[gate * H + j] : 0.f; };
  for (int64_t b = 0; b < c.batch; ++b) {
    const float* g = s.gates + b * GH;
    for (int64_t j = 0; j < H; ++j) {
      const float c_prev = s.c_prev[b * H + j];
      const float input = p.act[0](clip_to(g[j] + peephole(0, j) * c_prev, c.clip));
      const float forget =
          c.input_forget ? 1.f - input : p.act[0](clip_to(g[2 * H + j] + peephole(2, j) * c_prev, c.clip));
      const float cell = forget * c_prev + input * p.act[1](clip_to(g[3 * H + j], c.clip));
      const float output = p.act[0](clip_to(g[H + j] + peephole(1, j) * cell, c.clip));
      s.c_next[b * H + j] = cell;
      s.h_next[b * H + j] = output * p.act[2](cell);
    }
  }
}

void copy_row(const float* from, float* to, int64_t n) { std::copy(from, from + n, to); }

// Runs direction d over the sequence. `projection` holds X W^T for every (time, batch) row of X,
// in X's row order.
void run_direction(const RnnConfig& c, const RnnBuffers& io, const Strides& st, int64_t d, const float* projection) {
  const int64_t H = c.hidden_size, GH = rnn_gate_count(c.cell) * H, B = c.batch;
  const bool reverse = d == 1 || c.reverse;
  const DirectionParams p = direction_params(c, io, d);
  auto buffer = [](int64_t n) { return std::vector<float>(static_cast<size_t>(n), 0.f); };
  std::vector<float> h = buffer(B * H), cell = buffer(B * H), h_next = buffer(B * H), c_next = buffer(B * H),
                     gates = buffer(B * GH), scratch = buffer(B * H);
  auto state_row = [&](int64_t b) { return (d * st.state_direction + b * st.state_batch) * H; };
  for (int64_t b = 0; b < B; ++b) {
    if (io.initial_h) copy_row(io.initial_h + state_row(b), h.data() + b * H, H);
    if (io.initial_c) copy_row(io.initial_c + state_row(b), cell.data() + b * H, H);
  }
  const StepBuffers step{gates.data(), h.data(), cell.data(), h_next.data(), c_next.data(), scratch.data()};

  std::vector<int64_t> time_of(static_cast<size_t>(B));  // this step's time index per item; -1 once it is done
  for (int64_t s = 0; s < c.seq_length; ++s) {
    bool any_active = false;
    for (int64_t b = 0; b < B; ++b) {
      const int64_t length = io.sequence_lens ? io.sequence_lens[b] : c.seq_length;
      // Backward, each item starts from its own last step, not from the padded end.
      time_of[b] = s >= length ? -1 : reverse ? length - 1 - s : s;
      if (time_of[b] < 0) continue;
      any_active = true;
      const float* x_proj = projection + (time_of[b] * st.x_time + b * st.x_batch) * GH;
      for (int64_t i = 0; i < GH; ++i) gates[b * GH + i] = x_proj[i] + p.gate_bias[i];
    }
    if (!any_active) break;
    switch (c.cell) {
      case RnnCell::Simple: simple_step(c, p, step); break;
      case RnnCell::Gru: gru_step(c, p, step); break;
      case RnnCell::Lstm: lstm_step(c, p, step); break;
    }
    for (int64_t b = 0; b < B; ++b) {
      if (time_of[b] < 0) continue;
      copy_row(h_next.data() + b * H, h.data() + b * H, H);
      if (c.cell == RnnCell::Lstm) copy_row(c_next.data() + b * H, cell.data() + b * H, H);
      if (io.y) copy_row(h.data() + b * H, io.y + (time_of[b] * st.y_time + d * st.y_direction + b * st.y_batch) * H, H);
    }
  }
  for (int64_t b = 0; b < B; ++b) {
    if (io.y_h) copy_row(h.data() + b * H, io.y_h + state_row(b), H);
    if (io.y_c) copy_row(cell.data() + b * H, io.y_c + state_row(b), H);
  }
}

}  // namespace

void compute_rnn(const RnnConfig& c, const RnnBuffers& io, ThreadPool& pool) {
  const int64_t GH = rnn_gate_count(c.cell) * c.hidden_size, rows = c.seq_length * c.batch;
  const Strides st = layout_strides(c);
  // The input projections of all steps do not depend on the recurrence: one GEMM per direction,
  // split over rows of X.
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(GH * c.input_size, 1));
  std::vector<std::vector<float>> projections(static_cast<size_t>(c.directions));
  for (int64_t d = 0; d < c.directions; ++d) {
    auto& projection = projections[static_cast<size_t>(d)];
    projection.resize(static_cast<size_t>(rows * GH));
    const float* w = io.w + d * GH * c.input_size;
    pool.parallel_for(
        rows,
        [&](int64_t begin, int64_t end) {
          gemm_ref(false, true, end - begin, GH, c.input_size, 1.f, io.x + begin * c.input_size, c.input_size, w,
                   c.input_size, 0.f, projection.data() + begin * GH, GH);
        },
        grain);
  }
  if (io.y) std::fill(io.y, io.y + c.seq_length * c.directions * c.batch * c.hidden_size, 0.f);
  pool.parallel_for(c.directions, [&](int64_t begin, int64_t end) {
    for (int64_t d = begin; d < end; ++d) run_direction(c, io, st, d, projections[static_cast<size_t>(d)].data());
  });
}

}  // namespace kiln::kernels
