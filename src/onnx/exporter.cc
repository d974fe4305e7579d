#include "onnx/exporter.h"

#include <algorithm>
#include <fstream>
#include <limits>
#include <set>
#include <type_traits>

#include "kiln/error.h"
#include "onnx/tensor_proto.h"

namespace kiln::onnx_io {
namespace {

void graph_to_proto(const ir::Graph& graph, onnx::GraphProto& proto);

void value_to_proto(const ir::Value& value, onnx::ValueInfoProto& proto) {
  proto.set_name(value.name);
  if (value.dtype == DType::Undefined && !value.shape) return;
  auto* tensor_type = proto.mutable_type()->mutable_tensor_type();
  if (value.dtype != DType::Undefined) tensor_type->set_elem_type(static_cast<int32_t>(value.dtype));
  if (!value.shape) return;
  auto* shape = tensor_type->mutable_shape();
  for (const ir::Dim& d : *value.shape) {
    auto* dim = shape->add_dim();
    if (d.is_static())
      dim->set_dim_value(d.size);
    else if (!d.symbol.empty())
      dim->set_dim_param(d.symbol);
  }
}

void attribute_to_proto(const std::string& name, const ir::Attribute& attribute, onnx::AttributeProto& proto) {
  proto.set_name(name);
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, float>) {
          proto.set_type(onnx::AttributeProto::FLOAT);
          proto.set_f(v);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          proto.set_type(onnx::AttributeProto::INT);
          proto.set_i(v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          proto.set_type(onnx::AttributeProto::STRING);
          proto.set_s(v);
        } else if constexpr (std::is_same_v<T, Tensor>) {
          proto.set_type(onnx::AttributeProto::TENSOR);
          *proto.mutable_t() = tensor_to_proto(v, "");
        } else if constexpr (std::is_same_v<T, std::shared_ptr<ir::Graph>>) {
          proto.set_type(onnx::AttributeProto::GRAPH);
          graph_to_proto(*v, *proto.mutable_g());
        } else if constexpr (std::is_same_v<T, std::vector<float>>) {
          proto.set_type(onnx::AttributeProto::FLOATS);
          for (float f : v) proto.add_floats(f);
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
          proto.set_type(onnx::AttributeProto::INTS);
          for (int64_t i : v) proto.add_ints(i);
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          proto.set_type(onnx::AttributeProto::STRINGS);
          for (const std::string& s : v) proto.add_strings(s);
        } else if constexpr (std::is_same_v<T, std::vector<Tensor>>) {
          proto.set_type(onnx::AttributeProto::TENSORS);
          for (const Tensor& t : v) *proto.add_tensors() = tensor_to_proto(t, "");
        } else {
          static_assert(std::is_same_v<T, std::vector<std::shared_ptr<ir::Graph>>>);
          proto.set_type(onnx::AttributeProto::GRAPHS);
          for (const auto& g : v) graph_to_proto(*g, *proto.add_graphs());
        }
      },
      attribute);
}

void graph_to_proto(const ir::Graph& graph, onnx::GraphProto& proto) {
  proto.set_name(graph.name);
  proto.set_doc_string(graph.doc_string);
  for (const auto* initializers : {&graph.initializers, &graph.input_defaults})
    for (const auto& [name, tensor] : *initializers) {
      if (tensor.numel() > 0 && !tensor.raw())
        throw Error(ErrorCode::InvalidArgument,
                    "initializer '" + name + "' no longer holds its elements (a session packed it)");
      *proto.add_initializer() = tensor_to_proto(tensor, name);
    }
  for (const ir::Value& v : graph.inputs) value_to_proto(v, *proto.add_input());
  for (const ir::Value& v : graph.outputs) value_to_proto(v, *proto.add_output());
  // The types of values the graph still computes (fusions leave entries for the ones they removed).
  std::set<std::string> computed;
  for (const ir::Node& node : graph.nodes) computed.insert(node.outputs.begin(), node.outputs.end());
  for (const auto& [name, v] : graph.value_info)
    if (computed.count(name)) value_to_proto(v, *proto.add_value_info());
  // In topological order, as ONNX requires.
  for (size_t index : graph.topological_order()) {
    const ir::Node& node = graph.nodes[index];
    onnx::NodeProto& n = *proto.add_node();
    n.set_name(node.name);
    n.set_op_type(node.op_type);
    n.set_domain(node.domain);
    for (const std::string& in : node.inputs) n.add_input(in);
    for (const std::string& out : node.outputs) n.add_output(out);
    for (const auto& [name, attribute] : node.attributes) attribute_to_proto(name, attribute, *n.add_attribute());
  }
}

}  // namespace

onnx::ModelProto model_to_proto(const ir::Model& model) {
  onnx::ModelProto proto;
  // IR version 8 (ONNX 1.10+), at least what the model declared.
  proto.set_ir_version(std::max<int64_t>(model.ir_version, 8));
  proto.set_producer_name("kiln");
  proto.set_producer_version("0.1.0");
  proto.set_domain(model.domain);
  proto.set_doc_string(model.doc_string);
  proto.set_model_version(model.model_version);
  for (const auto& [key, value] : model.metadata_props) {
    auto* prop = proto.add_metadata_props();
    prop->set_key(key);
    prop->set_value(value);
  }
  for (const auto& [domain, version] : model.opset_imports) {
    auto* opset = proto.add_opset_import();
    opset->set_domain(domain);
    opset->set_version(version);
  }
  graph_to_proto(model.graph, *proto.mutable_graph());
  return proto;
}

void save_model(const ir::Model& model, const std::string& path) {
  const onnx::ModelProto proto = model_to_proto(model);
  if (proto.ByteSizeLong() > static_cast<size_t>(std::numeric_limits<int>::max()))
    throw Error(ErrorCode::InvalidArgument, "the optimized model is larger than 2 GiB, protobuf's limit for one file");
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out || !proto.SerializeToOstream(&out) || !out.flush())
    throw Error(ErrorCode::Io, "cannot write model file '" + path + "'");
}

}  // namespace kiln::onnx_io
