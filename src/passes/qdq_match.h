// Matching QDQ node units: the DequantizeLinear and QuantizeLinear nodes around an op, with
// constant parameters, for the passes that fuse those units into 8-bit kernels.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>

#include "ir/graph.h"

namespace kiln::passes {

// A DequantizeLinear (or QuantizeLinear) whose parameters are constants: its quantized side (its
// float input for a Q), scale and zero point (empty when absent: zero of the quantized type), axis.
struct Quantization {
  size_t node;
  std::string values, scale, zero_point;
  const Tensor* scale_tensor;
  int64_t axis;
};

bool is_integer_8bit(DType dtype);
std::optional<Quantization> quantization(const ir::Graph& g, size_t index);
// The DequantizeLinear writing `value`, with constant parameters.
std::optional<Quantization> dequantized_source(const ir::Graph& g, const std::unordered_map<std::string, size_t>& producers,
                                               const std::string& value);
// A value's dtype; a QuantizeLinear's output's from its zero point (or output_dtype, or uint8),
// for graphs whose values carry no types (built in memory, not imported).
DType value_dtype(const ir::Graph& g, const std::unordered_map<std::string, size_t>& producers, const std::string& name);
// An activation quantized per tensor to 8 bits.
bool per_tensor_8bit(const ir::Graph& g, const std::unordered_map<std::string, size_t>& producers, const Quantization& q);
// The one QuantizeLinear, per tensor with constant parameters, that alone reads `value`.
std::optional<Quantization> sole_output_quantization(const ir::Graph& g, const std::string& value);

}  // namespace kiln::passes
