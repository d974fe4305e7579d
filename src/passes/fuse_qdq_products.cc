#include "passes/fuse_qdq_products.h"

#include <cmath>
#include <optional>
#include <unordered_set>

#include "ir/graph_edit.h"
#include "passes/match.h"
#include "passes/qdq_match.h"

namespace kiln::passes {
namespace {

// A constant 8-bit weight quantized per tensor or along `channel_axis` (of a weight of `rank`).
bool constant_weight(const ir::Graph& g, const Quantization& q, int64_t channel_axis) {
  const auto w = g.initializers.find(q.values);
  if (w == g.initializers.end() || !is_integer_8bit(w->second.dtype())) return false;
  if (q.scale_tensor->numel() == 1) return true;
  const int64_t rank = static_cast<int64_t>(w->second.rank());
  const int64_t axis = q.axis < 0 ? q.axis + rank : q.axis;
  return axis == channel_axis && q.scale_tensor->numel() == w->second.dim(static_cast<size_t>(axis));
}

// The Q after the product (through a Relu the Q makes redundant), with the nodes between.
struct OutputQuantization {
  Quantization q;
  std::vector<size_t> removed;  // the Q, and the Relu if any
};

std::optional<OutputQuantization> output_quantization(const ir::Graph& g, const std::string& product) {
  auto reader = sole_consumer(g, product);
  std::vector<size_t> removed;
  if (reader && is_op(g.nodes[*reader], "Relu")) {
    removed.push_back(*reader);
    reader = sole_consumer(g, g.nodes[*reader].outputs[0]);
  }
  if (!reader) return std::nullopt;
  auto q = sole_output_quantization(g, removed.empty() ? product : g.nodes[removed.back()].outputs[0]);
  if (!q) return std::nullopt;
  if (!removed.empty()) {
    // Relu(y) quantized equals Q(y) only when Q already clamps below at its zero point.
    if (q->zero_point.empty()) return std::nullopt;
    const Tensor& zp = g.initializers.at(q->zero_point);
    const bool lowest = zp.dtype() == DType::UInt8 ? zp.data<uint8_t>()[0] == 0
                        : zp.dtype() == DType::Int8 ? zp.data<int8_t>()[0] == -128
                                                    : false;
    if (!lowest) return std::nullopt;
  }
  removed.push_back(*reader);
  return OutputQuantization{*q, removed};
}

class Fuser {
 public:
  explicit Fuser(ir::Model& model) : model_(model), g_(model.graph), producers_(g_.producers()) {}

  bool try_fuse(size_t index) {
    const ir::Node& node = g_.nodes[index];
    const bool conv = is_op(node, "Conv"), matmul = is_op(node, "MatMul"), gemm = is_op(node, "Gemm");
    if ((!conv && !matmul && !gemm) || node.inputs.size() < 2 || node.outputs.size() != 1) return false;
    const auto x = dequantized_source(g_, producers_, node.inputs[0]);
    const auto w = dequantized_source(g_, producers_, node.inputs[1]);
    if (!x || !w || !per_tensor_8bit(g_, producers_, *x)) return false;
    int64_t channel_axis = conv ? 0 : 1;
    if (gemm) {
      if (attribute<int64_t>(node, "transA").value_or(0) != 0 || attribute<float>(node, "alpha").value_or(1.f) != 1.f ||
          attribute<float>(node, "beta").value_or(1.f) != 1.f)
        return false;
      if (attribute<int64_t>(node, "transB").value_or(0) != 0) channel_axis = 0;
    }
    if (!constant_weight(g_, *w, channel_axis)) return false;
    if (matmul && g_.initializers.at(w->values).rank() != 2) return false;
    const bool has_bias = node.inputs.size() > 2 && !node.inputs[2].empty();
    if (matmul && has_bias) return false;
    std::optional<Quantization> bias;
    if (has_bias) {
      bias = dequantized_source(g_, producers_, node.inputs[2]);
      if (!bias || value_dtype(g_, producers_, bias->values) != DType::Int32 || !g_.initializers.count(bias->values)) return false;
    }
    // A Gemm whose result stays float (a classifier's logits) still multiplies integers: QGemm
    // without y_scale dequantizes in its epilogue.
    const auto y = output_quantization(g_, node.outputs[0]);
    if (!y && !gemm) return false;

    std::vector<std::string> inputs = {x->values, x->scale, zero_point_or_zero(*x),
                                       w->values, w->scale, zero_point_or_zero(*w)};
    const std::string bias_input = has_bias ? rescaled_bias(*bias, *x, *w) : "";
    const std::string output = y ? g_.nodes[y->removed.back()].outputs[0] : node.outputs[0];
    ir::Node& fused = g_.nodes[index];
    if (conv) {
      inputs.insert(inputs.end(), {y->q.scale, zero_point_or_zero(y->q)});
      if (has_bias) inputs.push_back(bias_input);
      fused.op_type = "QLinearConv";
    } else if (matmul) {
      inputs.insert(inputs.end(), {y->q.scale, zero_point_or_zero(y->q)});
      fused.op_type = "QLinearMatMul";
    } else {
      inputs.push_back(bias_input);
      if (y) inputs.insert(inputs.end(), {y->q.scale, zero_point_or_zero(y->q)});
      fused.op_type = "QGemm";
      fused.domain = kKilnDomain;
      fused.attributes.erase("beta");
      import_kiln_domain(model_);
    }
    fused.inputs = std::move(inputs);
    fused.outputs = {output};
    if (y) removed_.insert(removed_.end(), y->removed.begin(), y->removed.end());
    return true;
  }

  // Removes the fused-away nodes and the DequantizeLinear nodes no one reads any more.
  void finish() {
    ir::remove_nodes(g_, removed_);
    remove_unread(g_, "DequantizeLinear");
  }

 private:
  std::string zero_point_or_zero(const Quantization& q) {
    if (!q.zero_point.empty()) return q.zero_point;
    const std::string name = ir::unique_value_name(g_, q.values + "_zero_point");
    const DType dtype = value_dtype(g_, producers_, q.values);
    g_.initializers.emplace(name, dtype == DType::Int8 ? Tensor::scalar<int8_t>(0) : Tensor::scalar<uint8_t>(0));
    return name;
  }

  // The int32 bias at scale x_scale * w_scale[c], which QLinearConv and QGemm take it at: the given
  // one when its scale is that already (a quantizer's usual output), else re-quantized.
  std::string rescaled_bias(const Quantization& bias, const Quantization& x, const Quantization& w) {
    const Tensor& values = g_.initializers.at(bias.values);
    const int64_t channels = values.numel();
    const float x_scale = x.scale_tensor->data<float>()[0];
    const auto at = [](const Tensor& t, int64_t c) { return t.data<float>()[t.numel() == 1 ? 0 : c]; };
    const int32_t* zero = bias.zero_point.empty() ? nullptr : g_.initializers.at(bias.zero_point).data<int32_t>();
    const int64_t zero_count = bias.zero_point.empty() ? 0 : g_.initializers.at(bias.zero_point).numel();
    bool same = true;
    Tensor rescaled(DType::Int32, {channels});
    for (int64_t c = 0; c < channels; ++c) {
      const float target = x_scale * at(*w.scale_tensor, c);
      const int32_t zp = zero ? zero[zero_count == 1 ? 0 : c] : 0;
      const double real = static_cast<double>(values.data<int32_t>()[c] - zp) * at(*bias.scale_tensor, c);
      const double q = std::nearbyint(real / target);
      rescaled.data<int32_t>()[c] = static_cast<int32_t>(std::fmax(std::fmin(q, 2147483647.0), -2147483648.0));
      same = same && zp == 0 && at(*bias.scale_tensor, c) == target;
    }
    if (same) return bias.values;
    const std::string name = ir::unique_value_name(g_, bias.values + "_rescaled");
    g_.initializers.emplace(name, std::move(rescaled));
    return name;
  }

  ir::Model& model_;
  ir::Graph& g_;
  std::unordered_map<std::string, size_t> producers_;
  std::vector<size_t> removed_;
};

}  // namespace

int FuseQdqProducts::run(ir::Model& model) const {
  Fuser fuser(model);
  int fused = 0;
  for (size_t i = 0; i < model.graph.nodes.size(); ++i) fused += fuser.try_fuse(i) ? 1 : 0;
  if (fused) fuser.finish();
  return fused;
}

}  // namespace kiln::passes
