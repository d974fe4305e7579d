#include "passes/qdq_match.h"

#include "passes/match.h"

namespace kiln::passes {

bool is_integer_8bit(DType dtype) { return dtype == DType::UInt8 || dtype == DType::Int8; }

std::optional<Quantization> quantization(const ir::Graph& g, size_t index) {
  const ir::Node& node = g.nodes[index];
  if (node.inputs.size() < 2) return std::nullopt;
  const auto scale = g.initializers.find(node.inputs[1]);
  if (scale == g.initializers.end() || scale->second.dtype() != DType::Float32) return std::nullopt;
  const std::string zero_point = node.inputs.size() > 2 ? node.inputs[2] : "";
  if (!zero_point.empty() && !g.initializers.count(zero_point)) return std::nullopt;
  if (attribute<int64_t>(node, "block_size").value_or(0) != 0) return std::nullopt;
  return Quantization{index, node.inputs[0], node.inputs[1], zero_point, &scale->second,
                      attribute<int64_t>(node, "axis").value_or(1)};
}

std::optional<Quantization> dequantized_source(const ir::Graph& g, const std::unordered_map<std::string, size_t>& producers,
                                               const std::string& value) {
  const auto it = producers.find(value);
  if (it == producers.end() || !is_op(g.nodes[it->second], "DequantizeLinear")) return std::nullopt;
  return quantization(g, it->second);
}

DType value_dtype(const ir::Graph& g, const std::unordered_map<std::string, size_t>& producers, const std::string& name) {
  if (const auto it = g.initializers.find(name); it != g.initializers.end()) return it->second.dtype();
  if (const auto value = g.find_value(name); value && value->dtype != DType::Undefined) return value->dtype;
  const auto producer = producers.find(name);
  if (producer == producers.end() || !is_op(g.nodes[producer->second], "QuantizeLinear")) return DType::Undefined;
  const ir::Node& q = g.nodes[producer->second];
  if (q.inputs.size() > 2 && !q.inputs[2].empty()) return value_dtype(g, producers, q.inputs[2]);
  const int64_t output_dtype = attribute<int64_t>(q, "output_dtype").value_or(0);
  return output_dtype ? static_cast<DType>(output_dtype) : DType::UInt8;
}

bool per_tensor_8bit(const ir::Graph& g, const std::unordered_map<std::string, size_t>& producers, const Quantization& q) {
  return q.scale_tensor->numel() == 1 && is_integer_8bit(value_dtype(g, producers, q.values));
}

std::optional<Quantization> sole_output_quantization(const ir::Graph& g, const std::string& value) {
  const auto reader = sole_consumer(g, value);
  if (!reader || !is_op(g.nodes[*reader], "QuantizeLinear")) return std::nullopt;
  auto q = quantization(g, *reader);
  if (!q || q->scale_tensor->numel() != 1 || attribute<int64_t>(g.nodes[*reader], "output_dtype").value_or(0) != 0)
    return std::nullopt;
  return q;
}


}  // namespace kiln::passes
