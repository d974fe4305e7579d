#include "quant/insert_qdq.h"

#include <algorithm>
#include <set>

#include "ir/graph_edit.h"
#include "kernels/cpu/quant_ref.h"
#include "kiln/error.h"
#include "quant/graph_writer.h"

namespace kiln::quant {
namespace {

Tensor zero_point_tensor(const TensorQuantization& q) {
  if (q.dtype == DType::Int8) return Tensor::scalar<int8_t>(static_cast<int8_t>(q.zero_point));
  return Tensor::scalar<uint8_t>(static_cast<uint8_t>(q.zero_point));
}

class QdqWriter {
 public:
  QdqWriter(ir::Graph& graph, const ActivationParams& params) : writer_(graph), graph_(graph), params_(params) {}

  void quantize_activation(const std::string& name) {
    const TensorQuantization& q = params_.at(name);
    const std::string scale = add_initializer(name + "_scale", Tensor::scalar<float>(q.scale));
    const std::string zero_point = add_initializer(name + "_zero_point", zero_point_tensor(q));
    const std::string dequantized = dequantized_name(name);
    if (const auto it = graph_.initializers.find(name); it != graph_.initializers.end()) {
      // A constant is quantized now, once: only its DequantizeLinear is left to run.
      Tensor values(q.dtype, it->second.shape());
      const kernels::ChannelLayout per_tensor;
      if (q.dtype == DType::Int8)
        kernels::quantize_linear_ref(it->second.data<float>(), values.data<int8_t>(), 0, values.numel(), per_tensor,
                                     &q.scale, &q.zero_point);
      else
        kernels::quantize_linear_ref(it->second.data<float>(), values.data<uint8_t>(), 0, values.numel(), per_tensor,
                                     &q.scale, &q.zero_point);
      const std::string quantized = add_initializer(name + "_quantized", std::move(values));
      ir::replace_uses(graph_, name, dequantized);
      add_node("DequantizeLinear", name + "_DequantizeLinear", {quantized, scale, zero_point}, dequantized);
      return;
    }
    const std::string quantized = writer_.fresh(name + "_quantized");
    // Typed as an imported model's would be, so that passes see the integer dtype of the model in
    // memory too.
    const auto value = graph_.find_value(name);
    const auto shape = value ? value->shape : std::nullopt;
    graph_.value_info[quantized] = {quantized, q.dtype, shape};
    graph_.value_info[dequantized] = {dequantized, DType::Float32, shape};
    ir::replace_uses(graph_, name, dequantized);
    add_node("QuantizeLinear", name + "_QuantizeLinear", {name, scale, zero_point}, quantized);
    add_node("DequantizeLinear", name + "_DequantizeLinear", {quantized, scale, zero_point}, dequantized);
  }

  // Returns the weight's scales, which its biases' scales are made from.
  const Tensor& quantize_weight_input(const WeightInput& weight) {
    QuantizedWeight q = quantize_weight(graph_.initializers.at(weight.name), weight.axis);
    const std::string values = add_initializer(weight.name + "_quantized", std::move(q.values));
    const std::string scale = add_initializer(weight.name + "_scale", std::move(q.scales));
    const std::string zero_point = add_initializer(weight.name + "_zero_point", std::move(q.zero_points));
    const std::string dequantized = dequantized_name(weight.name);
    ir::replace_uses(graph_, weight.name, dequantized);
    ir::Node& dq = add_node("DequantizeLinear", weight.name + "_DequantizeLinear", {values, scale, zero_point}, dequantized);
    if (weight.axis >= 0) dq.attributes["axis"] = weight.axis;
    weight_scales_[weight.name] = scale;
    return graph_.initializers.at(scale);
  }

  void quantize_bias_input(const BiasInput& bias) {
    const auto input = params_.find(bias.activation);
    const auto weight_scale = weight_scales_.find(bias.weight);
    if (input == params_.end() || weight_scale == weight_scales_.end() || done_biases_.count(bias.name)) return;
    done_biases_.insert(bias.name);
    QuantizedBias q = quantize_bias(graph_.initializers.at(bias.name), input->second.scale,
                                    graph_.initializers.at(weight_scale->second));
    const bool per_channel = q.scales.rank() == 1;
    const int64_t channels = q.values.numel();
    const std::string values = add_initializer(bias.name + "_quantized", std::move(q.values));
    const std::string scale = add_initializer(bias.name + "_scale", std::move(q.scales));
    const std::string zero_point = add_initializer(
        bias.name + "_zero_point", per_channel ? Tensor::zeros(DType::Int32, {channels}) : Tensor::scalar<int32_t>(0));
    const std::string dequantized = dequantized_name(bias.name);
    ir::replace_uses(graph_, bias.name, dequantized);
    ir::Node& dq = add_node("DequantizeLinear", bias.name + "_DequantizeLinear", {values, scale, zero_point}, dequantized);
    if (per_channel) dq.attributes["axis"] = int64_t{0};
  }

  void remove_activations(const std::vector<size_t>& indices) {
    for (size_t index : indices) {
      const ir::Node& activation = graph_.nodes[index];
      const std::string input = activation.inputs[0], output = activation.outputs[0];
      for (ir::Node& node : graph_.nodes)
        for (std::string& o : node.outputs)
          if (o == input) o = output;
    }
    ir::remove_nodes(graph_, indices);
  }

  void commit() { writer_.commit(); }

 private:
  std::string add_initializer(const std::string& base, Tensor value) {
    return writer_.add_initializer(base, std::move(value));
  }
  ir::Node& add_node(const std::string& op, const std::string& name, std::vector<std::string> inputs,
                     const std::string& output) {
    return writer_.add_node(op, name, std::move(inputs), {output});
  }

  GraphWriter writer_;
  ir::Graph& graph_;
  const ActivationParams& params_;
  std::map<std::string, std::string> weight_scales_;
  std::set<std::string> done_biases_;
};

}  // namespace

std::string dequantized_name(const std::string& name) { return name + "_dequantized"; }

ActivationParams activation_params(const QdqPlan& plan, const std::map<std::string, TensorRange>& ranges,
                                   ActivationType type) {
  ActivationParams params;
  for (const std::string& name : plan.calibrated) {
    const TensorRange& range = ranges.at(name);
    params[name] = activation_quantization(range.low, range.high, type);
  }
  for (const auto& [name, source] : plan.shared) params[name] = params.at(source);
  return params;
}

void insert_qdq(ir::Model& model, const QdqPlan& plan, const ActivationParams& params) {
  const bool per_channel = std::any_of(plan.weights.begin(), plan.weights.end(), [](const WeightInput& w) { return w.axis >= 0; });
  if (per_channel && model.opset("") < 13)
    throw Error(ErrorCode::InvalidArgument, "the model imports ONNX opset " + std::to_string(model.opset("")) +
                                                "; per-channel weights need opset 13 or later: export it at opset 13+, or "
                                                "quantize weights per tensor");
  QdqWriter writer(model.graph, params);
  // Removed activations first: the producer then writes the quantized tensor's name itself.
  writer.remove_activations(plan.removed_activations);
  std::set<std::string> weights_done;
  for (const WeightInput& weight : plan.weights)
    if (weights_done.insert(weight.name).second) writer.quantize_weight_input(weight);
  for (const BiasInput& bias : plan.biases) writer.quantize_bias_input(bias);
  for (const auto& [name, q] : params) writer.quantize_activation(name);
  writer.commit();
}

}  // namespace kiln::quant
