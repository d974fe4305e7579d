#include "onnx/type_inference.h"

#include <algorithm>
#include <climits>
#include <unordered_map>

#include "onnx/defs/schema.h"
#include "onnx/shape_inference/implementation.h"

namespace kiln::onnx_io {
namespace {

bool has_subgraph(const onnx::NodeProto& node) {
  for (const auto& a : node.attribute())
    if (a.has_g() || a.graphs_size() > 0) return true;
  return false;
}

DType known_dtype(const ir::Graph& graph, const std::string& value_name) {
  const auto value = graph.find_value(value_name);
  return value ? value->dtype : DType::Undefined;
}

}  // namespace

void infer_dtypes(onnx::GraphProto& proto, ir::Model& model) {
  ir::Graph& graph = model.graph;
  const std::unordered_map<std::string, const onnx::TensorProto*> no_constant_data;
  const std::unordered_map<std::string, const onnx::SparseTensorProto*> no_sparse_data;
  for (size_t index : graph.topological_order()) {
    const ir::Node& node = graph.nodes[index];
    onnx::NodeProto& node_proto = *proto.mutable_node(static_cast<int>(index));
    const int64_t opset = std::min<int64_t>(model.opset(node.domain), INT_MAX);
    const onnx::OpSchema* schema =
        onnx::OpSchemaRegistry::Schema(node.op_type, static_cast<int>(opset), node.domain);
    if (!schema || !(schema->has_type_and_shape_inference_function() || schema->HasFunction()) ||
        has_subgraph(node_proto))
      continue;

    std::unordered_map<std::string, onnx::TypeProto> input_types;
    bool all_inputs_known = true;
    for (const auto& in : node.inputs) {
      if (in.empty()) continue;
      const DType dtype = known_dtype(graph, in);
      all_inputs_known = all_inputs_known && dtype != DType::Undefined;
      input_types[in].mutable_tensor_type()->set_elem_type(static_cast<int32_t>(dtype));
    }
    if (!all_inputs_known) continue;
    std::unordered_map<std::string, onnx::TypeProto*> input_type_ptrs;
    for (auto& [name, type] : input_types) input_type_ptrs[name] = &type;

    onnx::shape_inference::InferenceContextImpl ctx(node_proto, input_type_ptrs, no_constant_data, no_sparse_data);
    try {
      schema->Verify(node_proto);
      if (schema->has_type_and_shape_inference_function()) {
        schema->GetTypeAndShapeInferenceFunction()(ctx);
      } else {  // ops such as GreaterOrEqual-16 are defined by a body of ONNX's own nodes
        onnx::shape_inference::InferShapeForFunctionNode(*schema->GetFunction(), onnx::OpSchemaRegistry::Instance(),
                                                         ctx);
      }
    } catch (const std::exception&) {
      continue;  // a malformed node: its kernel reports the problem with Kiln's own message
    }
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      const onnx::TypeProto& inferred = *ctx.getOutputType(i);
      const std::string& out = node.outputs[i];
      if (out.empty() || !inferred.has_tensor_type() || known_dtype(graph, out) != DType::Undefined) continue;
      const int32_t elem_type = inferred.tensor_type().elem_type();
      if (elem_type == 0 || !is_known_dtype(elem_type)) continue;
      ir::Value& value = graph.value_info[out];
      value.name = out;
      value.dtype = static_cast<DType>(elem_type);
    }
  }
}

}  // namespace kiln::onnx_io
