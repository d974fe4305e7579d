#include "passes/fuse_nchwc_pointwise_depthwise.h"

#include "ir/graph_edit.h"
#include "passes/match.h"

namespace kiln::passes {
namespace {

bool all_equal(const std::optional<std::vector<int64_t>>& values, int64_t expected) {
  if (!values) return true;
  for (int64_t v : *values)
    if (v != expected) return false;
  return true;
}

// The filter of an NchwcConv without a residual, when it is an initializer of rank 4.
const Tensor* plain_filter(const ir::Graph& g, const ir::Node& node) {
  if (!is_op(node, "NchwcConv", kKilnDomain) || node.inputs.size() > 3 || node.outputs.size() != 1) return nullptr;
  const auto w = g.initializers.find(node.inputs[1]);
  return w == g.initializers.end() || w->second.rank() != 4 ? nullptr : &w->second;
}

bool is_pointwise(const ir::Graph& g, const ir::Node& node) {
  const Tensor* w = plain_filter(g, node);
  return w && w->dim(2) == 1 && w->dim(3) == 1 && !node.attributes.count("nchw_input") &&
         attribute<int64_t>(node, "group").value_or(1) == 1 &&
         all_equal(attribute<std::vector<int64_t>>(node, "strides"), 1) &&
         all_equal(attribute<std::vector<int64_t>>(node, "pads"), 0);
}

bool is_depthwise_of(const ir::Graph& g, const ir::Node& node, int64_t channels) {
  const Tensor* w = plain_filter(g, node);
  return w && w->dim(0) == channels && w->dim(1) == 1 && attribute<int64_t>(node, "group").value_or(1) == channels;
}

}  // namespace

int FuseNchwcPointwiseDepthwise::run(ir::Model& model) const {
  ir::Graph& g = model.graph;
  std::vector<size_t> fused;
  for (size_t p = 0; p < g.nodes.size(); ++p) {
    const ir::Node& pointwise = g.nodes[p];
    if (!is_pointwise(g, pointwise)) continue;
    const auto consumer = sole_consumer(g, pointwise.outputs[0]);
    if (!consumer) continue;
    ir::Node& depthwise = g.nodes[*consumer];
    const int64_t channels = g.initializers.at(pointwise.inputs[1]).dim(0);
    if (!is_depthwise_of(g, depthwise, channels) || depthwise.inputs[0] != pointwise.outputs[0]) continue;
    const std::string depthwise_w = depthwise.inputs[1];
    const std::string depthwise_b = depthwise.inputs.size() > 2 ? depthwise.inputs[2] : "";
    depthwise.inputs = {pointwise.inputs[0], pointwise.inputs[1], pointwise.inputs.size() > 2 ? pointwise.inputs[2] : "",
                        depthwise_w, depthwise_b};
    for (const char* name : {"activation", "activation_params"})
      if (const auto it = pointwise.attributes.find(name); it != pointwise.attributes.end())
        depthwise.attributes[std::string("pointwise_") + name] = it->second;
    depthwise.op_type = "NchwcPointwiseDepthwise";
    fused.push_back(p);
  }
  if (fused.empty()) return 0;
  ir::remove_nodes(g, fused);
  return static_cast<int>(fused.size());
}

}  // namespace kiln::passes
