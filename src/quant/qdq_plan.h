// Which tensors of a float model a static QDQ quantization puts QuantizeLinear/DequantizeLinear
// pairs on, following ONNX Runtime's QDQ quantizer so that what Kiln writes runs well there too:
//  - weighted ops (Conv, ConvTranspose, Gemm, MatMul): float inputs, the output, int8 weights
//    (per output channel by default) and int32 biases;
//  - computing ops (Add, Mul, Concat, pooling, Resize, Sigmoid, ...): float inputs and the output;
//  - data-movement ops (MaxPool, Reshape, Transpose, ...): the output takes the input's parameters,
//    when the input is quantized, so that they can run on the integers as they are;
//  - a Relu (or Clip from 0) that alone reads a weighted or computing op's output is removed: the
//    output's uint8 Q, whose range starts at 0, clamps as it did.
// Graph outputs stay float.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "quant/quantization_params.h"

namespace kiln::quant {

struct QdqOptions {
  ActivationType activation_type = ActivationType::UInt8;
  bool per_channel = true;
  // Node names or op types left float.
  std::vector<std::string> exclude;
  // Leaves the first and the last weighted op float (the layers that usually lose most).
  bool keep_float_first_last = false;
};

struct WeightInput {
  std::string name;  // the float initializer
  int64_t axis;      // its output-channel axis, or -1 per tensor
};

struct BiasInput {
  std::string name;        // the float initializer
  std::string activation;  // the op's quantized input, whose scale times the weight's is the bias's
  std::string weight;
};

struct QdqPlan {
  // Tensors that get parameters of their own from calibration, in topological order.
  std::vector<std::string> calibrated;
  // Tensors that take another's parameters: data-movement outputs, removed activations' inputs.
  std::map<std::string, std::string> shared;
  std::vector<WeightInput> weights;
  std::vector<BiasInput> biases;
  // Relu/Clip nodes (indices into the graph's nodes) whose work the next Q does.
  std::vector<size_t> removed_activations;
  // Nodes quantized, by index: what a report names.
  std::set<size_t> quantized_nodes;
};

QdqPlan plan_qdq(const ir::Graph& graph, const QdqOptions& options);

// Weighted ops, computing ops and data-movement ops, for messages and the docs.
const std::vector<std::string>& quantizable_op_types();

}  // namespace kiln::quant
