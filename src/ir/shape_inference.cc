#include "ir/shape_inference.h"

#include <unordered_map>
#include <unordered_set>

#include "kiln/error.h"

namespace kiln::ir {
namespace {

std::optional<int64_t> imported_opset(const Model& model, const std::string& domain) {
  const auto it = model.opset_imports.find(domain == "ai.onnx" ? "" : domain);
  return it == model.opset_imports.end() ? std::nullopt : std::optional<int64_t>(it->second);
}

[[noreturn]] void conflict(const Node& node, const std::string& value, const Dims& known, const Dims& inferred) {
  throw Error(ErrorCode::InvalidModel, node.describe() + " output '" + value + "' is annotated " +
                                           dims_to_string(known) + " but its inputs make it " + dims_to_string(inferred));
}

// `known` made more precise by `inferred`.
Dims refine(const Node& node, const std::string& value, const Dims& known, const Dims& inferred) {
  if (known.size() != inferred.size()) conflict(node, value, known, inferred);
  Dims merged = known;
  for (size_t i = 0; i < known.size(); ++i) {
    const Dim &k = known[i], &n = inferred[i];
    if (k.is_static() && n.is_static() && k.size != n.size) conflict(node, value, known, inferred);
    if (!k.is_static() && (n.is_static() || k.symbol.empty())) merged[i] = n;
  }
  return merged;
}

// The Value that Graph::find_value reads for a node output, created in value_info when there is none.
Value& recorded_value(Graph& graph, const std::string& name) {
  for (Value& v : graph.outputs)
    if (v.name == name && v.dtype != DType::Undefined) return v;
  Value& v = graph.value_info[name];
  v.name = name;
  return v;
}

// Entries for values no node computes any more: fused away or renamed (ir::bypass), whose name a
// later rewrite may give to a value of another shape, which must not read as a conflict; or
// folded into initializers, whose own dtype and shape Graph::find_value must then return.
void drop_stale_value_info(Graph& graph) {
  std::unordered_set<std::string> computed;
  for (const Node& node : graph.nodes) computed.insert(node.outputs.begin(), node.outputs.end());
  std::erase_if(graph.value_info, [&](const auto& entry) { return !computed.count(entry.first); });
}

}  // namespace

void infer_shapes(Model& model, const ShapeFunctionLookup& infer) {
  Graph& graph = model.graph;
  drop_stale_value_info(graph);
  std::unordered_map<std::string, const Tensor*> constant_nodes;
  for (size_t index : graph.topological_order()) {
    const Node& node = graph.nodes[index];
    if (node.op_type == "Constant" && node.domain.empty() && node.outputs.size() == 1)
      if (const auto it = node.attributes.find("value"); it != node.attributes.end())
        if (const auto* t = std::get_if<Tensor>(&it->second)) constant_nodes[node.outputs[0]] = t;
    const auto opset = imported_opset(model, node.domain);
    if (!opset) continue;
    ShapeQuery query{node, *opset, {}, {}};
    for (const std::string& input : node.inputs) {
      const auto value = input.empty() ? std::nullopt : graph.find_value(input);
      query.inputs.push_back(value ? value->shape : std::nullopt);
      const auto init = graph.initializers.find(input);
      const auto constant = constant_nodes.find(input);
      query.constants.push_back(init != graph.initializers.end() ? &init->second
                                : constant != constant_nodes.end() ? constant->second
                                                                   : nullptr);
    }
    const OutputShapes shapes = infer(query);
    for (size_t i = 0; i < shapes.size() && i < node.outputs.size(); ++i) {
      if (!shapes[i] || node.outputs[i].empty()) continue;
      Value& recorded = recorded_value(graph, node.outputs[i]);
      recorded.shape = recorded.shape ? refine(node, node.outputs[i], *recorded.shape, *shapes[i]) : *shapes[i];
    }
  }
}

}  // namespace kiln::ir
