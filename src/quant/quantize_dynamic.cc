#include "quant/quantize_dynamic.h"

#include <algorithm>
#include <map>

#include "ir/graph_edit.h"
#include "kiln/error.h"
#include "quant/graph_writer.h"
#include "quant/quantization_params.h"

namespace kiln::quant {
namespace {

bool listed(const std::vector<std::string>& list, const ir::Node& node) {
  return std::any_of(list.begin(), list.end(), [&](const std::string& e) { return e == node.name || e == node.op_type; });
}

int64_t int_attribute(const ir::Node& node, const std::string& name, int64_t fallback) {
  const auto it = node.attributes.find(name);
  return it == node.attributes.end() ? fallback : std::get<int64_t>(it->second);
}

float float_attribute(const ir::Node& node, const std::string& name, float fallback) {
  const auto it = node.attributes.find(name);
  return it == node.attributes.end() ? fallback : std::get<float>(it->second);
}

Tensor transposed_2d(const Tensor& w) {
  const int64_t rows = w.dim(0), cols = w.dim(1);
  Tensor t(DType::Float32, {cols, rows});
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) t.data<float>()[c * rows + r] = w.data<float>()[r * cols + c];
  return t;
}

// A quantizable node's weight as the integer op takes it ([K, N] for products, Conv's as it is),
// its output-channel axis there, and the bias to add after the scale, if any.
struct DynamicCandidate {
  Tensor weight;
  int64_t axis = 0;
  std::string bias;
  bool valid = false;
};

DynamicCandidate candidate(const ir::Graph& graph, const ir::Node& node) {
  DynamicCandidate c;
  if (node.inputs.size() < 2) return c;
  const auto w = graph.initializers.find(node.inputs[1]);
  if (w == graph.initializers.end() || w->second.dtype() != DType::Float32) return c;
  const auto x = graph.find_value(node.inputs[0]);
  if (!x || x->dtype != DType::Float32 || graph.initializers.count(node.inputs[0])) return c;
  if (node.inputs.size() > 2 && !node.inputs[2].empty()) c.bias = node.inputs[2];
  if (node.op_type == "Conv") {
    c.weight = w->second;
    c.axis = 0;
  } else if (node.op_type == "MatMul") {
    if (w->second.rank() != 2) return c;
    c.weight = w->second;
    c.axis = 1;
  } else if (node.op_type == "Gemm") {
    if (w->second.rank() != 2 || int_attribute(node, "transA", 0) != 0 || float_attribute(node, "alpha", 1.f) != 1.f ||
        float_attribute(node, "beta", 1.f) != 1.f)
      return c;
    c.weight = int_attribute(node, "transB", 0) != 0 ? transposed_2d(w->second) : w->second;
    c.axis = 1;
  } else {
    return c;
  }
  c.valid = true;
  return c;
}

class DynamicWriter {
 public:
  explicit DynamicWriter(GraphWriter& writer) : writer_(writer), graph_(writer.graph()) {}

  void rewrite(const ir::Node& node, DynamicCandidate c, bool per_channel) {
    const std::string base = node.name.empty() ? node.outputs[0] : node.name;
    const auto& [x_quantized, x_scale, x_zero_point] = dynamic_quantization(node.inputs[0]);
    QuantizedWeight q = quantize_weight(c.weight, per_channel ? c.axis : -1);
    const int64_t channels = q.scales.numel();
    const int64_t rank = c.weight.rank();
    // Conv's scales multiply [batch, M, spatial...]: shaped [M, 1, ...] to broadcast over space.
    if (node.op_type == "Conv" && channels > 1) {
      Shape shape(static_cast<size_t>(rank - 1), 1);
      shape[0] = channels;
      q.scales = q.scales.reshaped(shape);
    }
    const std::string w = add_initializer(node.inputs[1] + "_quantized", std::move(q.values));
    const std::string w_scale = add_initializer(node.inputs[1] + "_scale", std::move(q.scales));
    const std::string w_zero_point = add_initializer(node.inputs[1] + "_zero_point", Tensor::scalar<int8_t>(0));

    const bool is_conv = node.op_type == "Conv";
    ir::Node& product = add_node(is_conv ? "ConvInteger" : "MatMulInteger", base + "_quant",
                                 {x_quantized, w, x_zero_point, w_zero_point}, fresh(base + "_output_quantized"));
    if (is_conv) product.attributes = node.attributes;
    ir::Node& cast = add_node("Cast", base + "_output_quantized_cast", {product.outputs[0]}, fresh(base + "_output_cast"));
    cast.attributes["to"] = static_cast<int64_t>(DType::Float32);
    const std::string scale = add_node("Mul", base + "_scales_mul", {x_scale, w_scale}, fresh(base + "_scales")).outputs[0];
    const std::string& output = node.outputs[0];
    if (c.bias.empty()) {
      add_node("Mul", base + "_output_scale_mul", {cast.outputs[0], scale}, output);
      return;
    }
    const std::string scaled = add_node("Mul", base + "_output_scale_mul", {cast.outputs[0], scale}, fresh(base + "_scaled")).outputs[0];
    std::string bias = c.bias;
    if (is_conv) bias = conv_bias(c.bias, rank);
    add_node("Add", base + "_bias_add", {scaled, bias}, output);
  }

 private:
  struct QuantizedInput {
    std::string values, scale, zero_point;
  };

  // One DynamicQuantizeLinear per input, however many products read it.
  const QuantizedInput& dynamic_quantization(const std::string& x) {
    auto it = quantized_inputs_.find(x);
    if (it != quantized_inputs_.end()) return it->second;
    QuantizedInput q{fresh(x + "_quantized"), fresh(x + "_scale"), fresh(x + "_zero_point")};
    writer_.add_node("DynamicQuantizeLinear", x + "_QuantizeLinear", {x}, {q.values, q.scale, q.zero_point});
    return quantized_inputs_.emplace(x, q).first->second;
  }

  // Conv's bias [M] as [M, 1, ...], to add to [batch, M, spatial...].
  std::string conv_bias(const std::string& name, int64_t rank) {
    const Tensor& bias = graph_.initializers.at(name);
    Shape shape(static_cast<size_t>(rank - 1), 1);
    shape[0] = bias.numel();
    return add_initializer(name + "_reshaped", bias.reshaped(shape));
  }

  std::string fresh(const std::string& base) { return writer_.fresh(base); }
  std::string add_initializer(const std::string& base, Tensor value) {
    return writer_.add_initializer(base, std::move(value));
  }
  ir::Node& add_node(const std::string& op, const std::string& name, std::vector<std::string> inputs,
                     const std::string& output) {
    return writer_.add_node(op, name, std::move(inputs), {output});
  }

  GraphWriter& writer_;
  ir::Graph& graph_;
  std::map<std::string, QuantizedInput> quantized_inputs_;
};

}  // namespace

int quantize_dynamic(ir::Model& model, const DynamicOptions& options) {
  if (model.opset("") < 11)
    throw Error(ErrorCode::InvalidArgument, "the model imports ONNX opset " + std::to_string(model.opset("")) +
                                                "; dynamic quantization needs DynamicQuantizeLinear, opset 11 or later");
  ir::Graph& graph = model.graph;
  GraphWriter graph_writer(graph);
  DynamicWriter writer(graph_writer);
  std::vector<size_t> replaced;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const ir::Node& node = graph.nodes[i];
    if (!listed(options.op_types, node) || listed(options.exclude, node)) continue;
    DynamicCandidate c = candidate(graph, node);
    if (!c.valid) continue;
    writer.rewrite(node, std::move(c), options.per_channel);
    replaced.push_back(i);
  }
  ir::remove_nodes(graph, replaced);
  graph_writer.commit();
  return static_cast<int>(replaced.size());
}

}  // namespace kiln::quant
