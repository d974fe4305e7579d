#include "passes/conv_weights.h"

#include "ir/graph_edit.h"
#include "passes/match.h"

namespace kiln::passes {
namespace {

// The output channel count of a Conv with constant float32 weights (and bias, if any), or nullopt.
std::optional<int64_t> conv_constant_filters(const ir::Graph& g, const ir::Node& conv) {
  if (!is_op(conv, "Conv") || conv.inputs.size() < 2 || conv.outputs.size() != 1) return std::nullopt;
  const Tensor* w = float_initializer(g, conv.inputs[1]);
  if (!w || w->rank() < 3) return std::nullopt;
  const bool has_bias = conv.inputs.size() > 2 && !conv.inputs[2].empty();
  if (has_bias) {
    const Tensor* b = float_initializer(g, conv.inputs[2]);
    if (!b || b->rank() != 1 || b->dim(0) != w->dim(0)) return std::nullopt;
  }
  return w->dim(0);
}

void fold_affine(ir::Graph& g, ir::Node& conv, const ChannelAffine& affine) {
  const Tensor& w = g.initializers.at(conv.inputs[1]);
  const int64_t filters = w.dim(0), per_filter = w.numel() / filters;
  Tensor new_w(DType::Float32, w.shape());
  Tensor new_b(DType::Float32, {filters});
  const bool has_bias = conv.inputs.size() > 2 && !conv.inputs[2].empty();
  const float* old_b = has_bias ? g.initializers.at(conv.inputs[2]).data<float>() : nullptr;
  for (int64_t m = 0; m < filters; ++m) {
    const float s = affine.scale[static_cast<size_t>(m)];
    for (int64_t k = 0; k < per_filter; ++k)
      new_w.data<float>()[m * per_filter + k] = w.data<float>()[m * per_filter + k] * s;
    new_b.data<float>()[m] = (old_b ? old_b[m] : 0.f) * s + affine.shift[static_cast<size_t>(m)];
  }
  const std::string w_name = ir::unique_value_name(g, conv.name + "_folded_W");
  g.initializers[w_name] = std::move(new_w);
  const std::string b_name = ir::unique_value_name(g, conv.name + "_folded_B");
  g.initializers[b_name] = std::move(new_b);
  conv.inputs.resize(3);
  conv.inputs[1] = w_name;
  conv.inputs[2] = b_name;
}

}  // namespace

int fold_consumers_into_convs(ir::Graph& g, const AffineOfConsumer& affine_of) {
  std::vector<size_t> folded;
  for (ir::Node& conv : g.nodes) {
    const auto filters = conv_constant_filters(g, conv);
    if (!filters) continue;
    const auto consumer = sole_consumer(g, conv.outputs[0]);
    if (!consumer) continue;
    const ir::Node& node = g.nodes[*consumer];
    const auto affine = affine_of(g, conv, *filters, node);
    if (!affine) continue;
    fold_affine(g, conv, *affine);
    conv.outputs[0] = node.outputs[0];
    folded.push_back(*consumer);
  }
  ir::remove_nodes(g, folded);
  return static_cast<int>(folded.size());
}

}  // namespace kiln::passes
