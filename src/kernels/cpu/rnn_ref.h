// The recurrent layers of ONNX: RNN, GRU and LSTM. One driver runs all three: it projects the inputs
// of every time step at once (one GEMM per direction), walks the sequence forward or backward for
// each batch item up to its own length, and writes Y, Y_h and Y_c in the chosen layout; a small
// per-cell step turns the gate pre-activations and the previous state into the next state.
//
// Shapes (layout 0, time-major; batch-major swaps the first two dims of X, Y, and the state tensors):
//   X [seq, batch, input], W [dirs, gates * hidden, input], R [dirs, gates * hidden, hidden],
//   B [dirs, 2 * gates * hidden] (W biases then R biases), P [dirs, 3 * hidden] (LSTM peepholes i, o, f),
//   initial_h, initial_c, Y_h, Y_c [dirs, batch, hidden], Y [seq, dirs, batch, hidden].
// Gate order: GRU z, r, h; LSTM i, o, f, c.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "core/thread_pool.h"

namespace kiln::kernels {

enum class RnnActivationKind {
  Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus,
};

// One of the activations an RNN cell may use, with its alpha and beta (unused ones are ignored).
struct RnnActivation {
  RnnActivationKind kind;
  float alpha = 0.f;
  float beta = 0.f;

  float operator()(float x) const;
};

enum class RnnCell { Simple, Gru, Lstm };

// Gate blocks per cell: 1 for RNN, 3 for GRU, 4 for LSTM.
int64_t rnn_gate_count(RnnCell cell);
// Activations per direction: f for RNN; f, g for GRU; f, g, h for LSTM.
int64_t rnn_activation_count(RnnCell cell);

struct RnnConfig {
  RnnCell cell = RnnCell::Simple;
  int64_t seq_length = 0, batch = 0, input_size = 0, hidden_size = 0;
  int64_t directions = 1;
  bool reverse = false;      // with one direction: walk the sequence backward (direction 1 always does)
  bool batch_major = false;  // ONNX layout = 1
  // Bound on the magnitude of every gate pre-activation (after bias and peepholes).
  float clip = std::numeric_limits<float>::infinity();
  bool linear_before_reset = false;  // GRU: apply the reset gate after the recurrent product
  bool input_forget = false;         // LSTM: couple the forget gate to the input gate (f = 1 - i)
  // rnn_activation_count(cell) activations per direction, direction 0 first.
  std::vector<RnnActivation> activations;
};

// Optional inputs and outputs are null when absent. sequence_lens values must lie in [0, seq_length].
struct RnnBuffers {
  const float* x = nullptr;
  const float* w = nullptr;
  const float* r = nullptr;
  const float* bias = nullptr;
  const int32_t* sequence_lens = nullptr;
  const float* initial_h = nullptr;
  const float* initial_c = nullptr;
  const float* peepholes = nullptr;
  float* y = nullptr;
  float* y_h = nullptr;
  float* y_c = nullptr;
};

// Steps past an item's sequence length leave zeros in Y; its Y_h and Y_c are the state after its
// last step (the initial state when its length is 0). Directions run in parallel on the pool.
void compute_rnn(const RnnConfig& config, const RnnBuffers& buffers, ThreadPool& pool);

}  // namespace kiln::kernels
