#include "engine/model_serializer.h"

#include <vector>

namespace kiln::engine {
namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

[[noreturn]] void bad(const std::string& message) { throw Error(ErrorCode::InvalidModel, message); }

Offset<flatbuffers::Vector<Offset<flatbuffers::String>>> write_strings(FlatBufferBuilder& b,
                                                                       const std::vector<std::string>& strings) {
  std::vector<Offset<flatbuffers::String>> offsets;
  for (const std::string& s : strings) offsets.push_back(b.CreateString(s));
  return b.CreateVector(offsets);
}

Offset<fb::ValueInfo> write_value(FlatBufferBuilder& b, const ir::Value& v) {
  std::vector<Offset<fb::Dim>> dims;
  if (v.shape)
    for (const ir::Dim& d : *v.shape) dims.push_back(fb::CreateDim(b, d.size, b.CreateString(d.symbol)));
  return fb::CreateValueInfo(b, b.CreateString(v.name), static_cast<int32_t>(v.dtype), v.shape.has_value(),
                             b.CreateVector(dims));
}

Offset<flatbuffers::Vector<Offset<fb::ValueInfo>>> write_values(FlatBufferBuilder& b, const std::vector<ir::Value>& values) {
  std::vector<Offset<fb::ValueInfo>> offsets;
  for (const ir::Value& v : values) offsets.push_back(write_value(b, v));
  return b.CreateVector(offsets);
}

Offset<flatbuffers::Vector<Offset<fb::TensorData>>> write_tensors(FlatBufferBuilder& b,
                                                                  const std::map<std::string, Tensor>& tensors,
                                                                  const BlobSink& sink) {
  std::vector<Offset<fb::TensorData>> offsets;
  for (const auto& [name, t] : tensors) offsets.push_back(write_tensor(b, name, t, sink));
  return b.CreateVector(offsets);
}

Offset<fb::Graph> write_graph(FlatBufferBuilder& b, const ir::Graph& g, const BlobSink& sink);

Offset<fb::Attribute> write_attribute(FlatBufferBuilder& b, const std::string& name, const ir::Attribute& attribute,
                                      const BlobSink& sink) {
  using Kind = fb::AttributeKind;
  return std::visit(
      [&](const auto& v) -> Offset<fb::Attribute> {
        using T = std::decay_t<decltype(v)>;
        const auto n = b.CreateString(name);
        if constexpr (std::is_same_v<T, float>) {
          return fb::CreateAttribute(b, n, Kind::Float, v);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          return fb::CreateAttribute(b, n, Kind::Int, 0.f, v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return fb::CreateAttribute(b, n, Kind::String, 0.f, 0, b.CreateString(v));
        } else if constexpr (std::is_same_v<T, Tensor>) {
          return fb::CreateAttribute(b, n, Kind::Tensor, 0.f, 0, 0, write_tensor(b, "", v, sink));
        } else if constexpr (std::is_same_v<T, std::shared_ptr<ir::Graph>>) {
          return fb::CreateAttribute(b, n, Kind::Graph, 0.f, 0, 0, 0, write_graph(b, *v, sink));
        } else if constexpr (std::is_same_v<T, std::vector<float>>) {
          return fb::CreateAttribute(b, n, Kind::Floats, 0.f, 0, 0, 0, 0, b.CreateVector(v));
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
          return fb::CreateAttribute(b, n, Kind::Ints, 0.f, 0, 0, 0, 0, 0, b.CreateVector(v));
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          return fb::CreateAttribute(b, n, Kind::Strings, 0.f, 0, 0, 0, 0, 0, 0, write_strings(b, v));
        } else if constexpr (std::is_same_v<T, std::vector<Tensor>>) {
          std::vector<Offset<fb::TensorData>> tensors;
          for (const Tensor& t : v) tensors.push_back(write_tensor(b, "", t, sink));
          return fb::CreateAttribute(b, n, Kind::Tensors, 0.f, 0, 0, 0, 0, 0, 0, 0, b.CreateVector(tensors));
        } else {
          static_assert(std::is_same_v<T, std::vector<std::shared_ptr<ir::Graph>>>);
          std::vector<Offset<fb::Graph>> graphs;
          for (const auto& g : v) graphs.push_back(write_graph(b, *g, sink));
          return fb::CreateAttribute(b, n, Kind::Graphs, 0.f, 0, 0, 0, 0, 0, 0, 0, 0, b.CreateVector(graphs));
        }
      },
      attribute);
}

Offset<fb::Graph> write_graph(FlatBufferBuilder& b, const ir::Graph& g, const BlobSink& sink) {
  std::vector<Offset<fb::Node>> nodes;
  for (const ir::Node& node : g.nodes) {
    std::vector<Offset<fb::Attribute>> attributes;
    for (const auto& [name, attribute] : node.attributes) attributes.push_back(write_attribute(b, name, attribute, sink));
    nodes.push_back(fb::CreateNode(b, b.CreateString(node.name), b.CreateString(node.op_type),
                                   b.CreateString(node.domain), write_strings(b, node.inputs),
                                   write_strings(b, node.outputs), b.CreateVector(attributes)));
  }
  std::vector<ir::Value> value_info;
  for (const auto& [name, v] : g.value_info) value_info.push_back(v);
  return fb::CreateGraph(b, b.CreateString(g.name), b.CreateString(g.doc_string), b.CreateVector(nodes),
                         write_values(b, g.inputs), write_values(b, g.outputs), write_values(b, value_info),
                         write_tensors(b, g.initializers, sink), write_tensors(b, g.input_defaults, sink));
}

// Reading. The FlatBuffer was verified, so every offset is in bounds; what remains is that
// required fields are present and values are ones Kiln knows.

std::string str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

std::string required_name(const flatbuffers::String* s, const std::string& what) {
  if (!s || s->size() == 0) bad(what + " has no name");
  return s->str();
}

std::vector<std::string> read_strings(const flatbuffers::Vector<Offset<flatbuffers::String>>* strings) {
  std::vector<std::string> out;
  if (strings)
    for (const flatbuffers::String* s : *strings) out.push_back(str(s));
  return out;
}

// Values may have no known dtype (Undefined); tensors always have one.
DType read_dtype(int32_t value, const std::string& what, bool may_be_undefined = false) {
  if (value == 0 ? !may_be_undefined : !is_known_dtype(value))
    bad(what + " has unknown dtype " + std::to_string(value));
  return static_cast<DType>(value);
}

ir::Value read_value(const fb::ValueInfo& v, const std::string& what) {
  ir::Value value;
  value.name = required_name(v.name(), what);
  value.dtype = read_dtype(v.dtype(), "value '" + value.name + "'", true);
  if (v.has_shape()) {
    value.shape.emplace();
    if (v.dims())
      for (const fb::Dim* d : *v.dims()) {
        if (d->size() < -1) bad("value '" + value.name + "' has dim " + std::to_string(d->size()));
        value.shape->push_back({d->size(), str(d->symbol())});
      }
  }
  return value;
}

std::vector<ir::Value> read_values(const flatbuffers::Vector<Offset<fb::ValueInfo>>* values, const std::string& what) {
  std::vector<ir::Value> out;
  if (values)
    for (const fb::ValueInfo* v : *values) out.push_back(read_value(*v, what));
  return out;
}

std::map<std::string, Tensor> read_tensors(const flatbuffers::Vector<Offset<fb::TensorData>>* tensors,
                                           const BlobSource& source, const std::string& what) {
  std::map<std::string, Tensor> out;
  if (tensors)
    for (const fb::TensorData* t : *tensors) {
      const std::string name = required_name(t->name(), what);
      if (!out.emplace(name, read_tensor(*t, source, what + " '" + name + "'")).second)
        bad(what + " '" + name + "' is stored twice");
    }
  return out;
}

ir::Graph read_graph(const fb::Graph& g, const BlobSource& source);

ir::Attribute read_attribute(const fb::Attribute& a, const BlobSource& source, const std::string& what) {
  using Kind = fb::AttributeKind;
  switch (a.kind()) {
    case Kind::Float: return a.f();
    case Kind::Int: return a.i();
    case Kind::String: return str(a.s());
    case Kind::Tensor:
      if (!a.t()) bad(what + " has no tensor");
      return read_tensor(*a.t(), source, what);
    case Kind::Graph:
      if (!a.g()) bad(what + " has no graph");
      return std::make_shared<ir::Graph>(read_graph(*a.g(), source));
    case Kind::Floats: return a.floats() ? std::vector<float>(a.floats()->begin(), a.floats()->end()) : std::vector<float>{};
    case Kind::Ints: return a.ints() ? std::vector<int64_t>(a.ints()->begin(), a.ints()->end()) : std::vector<int64_t>{};
    case Kind::Strings: return read_strings(a.strings());
    case Kind::Tensors: {
      std::vector<Tensor> tensors;
      if (a.tensors())
        for (const fb::TensorData* t : *a.tensors()) tensors.push_back(read_tensor(*t, source, what));
      return tensors;
    }
    case Kind::Graphs: {
      std::vector<std::shared_ptr<ir::Graph>> graphs;
      if (a.graphs())
        for (const fb::Graph* g : *a.graphs()) graphs.push_back(std::make_shared<ir::Graph>(read_graph(*g, source)));
      return graphs;
    }
  }
  bad(what + " has unknown kind " + std::to_string(static_cast<int>(a.kind())));
}

ir::Graph read_graph(const fb::Graph& g, const BlobSource& source) {
  ir::Graph graph;
  graph.name = str(g.name());
  graph.doc_string = str(g.doc_string());
  if (g.nodes())
    for (const fb::Node* n : *g.nodes()) {
      ir::Node node;
      node.name = str(n->name());
      node.op_type = required_name(n->op_type(), "node '" + node.name + "'");
      node.domain = str(n->domain());
      node.inputs = read_strings(n->inputs());
      node.outputs = read_strings(n->outputs());
      if (n->attributes())
        for (const fb::Attribute* a : *n->attributes()) {
          const std::string what = node.describe() + " attribute '" + str(a->name()) + "'";
          const std::string name = required_name(a->name(), node.describe() + " attribute");
          if (!node.attributes.emplace(name, read_attribute(*a, source, what)).second) bad(what + " is stored twice");
        }
      graph.nodes.push_back(std::move(node));
    }
  graph.inputs = read_values(g.inputs(), "graph input");
  graph.outputs = read_values(g.outputs(), "graph output");
  for (ir::Value& v : read_values(g.value_info(), "value info")) {
    const std::string name = v.name;
    graph.value_info.emplace(name, std::move(v));
  }
  graph.initializers = read_tensors(g.initializers(), source, "initializer");
  graph.input_defaults = read_tensors(g.input_defaults(), source, "input default");
  return graph;
}

}  // namespace

Offset<fb::TensorData> write_tensor(FlatBufferBuilder& b, const std::string& name, const Tensor& tensor,
                                    const BlobSink& sink) {
  const bool has_data = tensor.raw() != nullptr || tensor.numel() == 0;
  const fb::Blob blob = has_data ? sink(tensor.raw(), tensor.nbytes()) : fb::Blob();
  return fb::CreateTensorData(b, b.CreateString(name), static_cast<int32_t>(tensor.dtype()), b.CreateVector(tensor.shape()),
                              has_data, has_data ? &blob : nullptr);
}

Offset<fb::Model> write_model(FlatBufferBuilder& b, const ir::Model& model, const BlobSink& sink) {
  std::vector<Offset<fb::MetadataProp>> props;
  for (const auto& [key, value] : model.metadata_props)
    props.push_back(fb::CreateMetadataProp(b, b.CreateString(key), b.CreateString(value)));
  std::vector<Offset<fb::Opset>> opsets;
  for (const auto& [domain, version] : model.opset_imports)
    opsets.push_back(fb::CreateOpset(b, b.CreateString(domain), version));
  const auto graph = write_graph(b, model.graph, sink);
  return fb::CreateModel(b, model.ir_version, b.CreateString(model.producer_name), b.CreateString(model.producer_version),
                         b.CreateString(model.domain), b.CreateString(model.doc_string), model.model_version,
                         b.CreateVector(props), b.CreateVector(opsets), graph);
}

Tensor read_tensor(const fb::TensorData& data, const BlobSource& source, const std::string& what) {
  const DType dtype = read_dtype(data.dtype(), what);
  Shape shape;
  if (data.shape()) shape.assign(data.shape()->begin(), data.shape()->end());
  for (int64_t d : shape)
    if (d < 0) bad(what + " has negative dim " + std::to_string(d));
  if (!data.has_data()) {
    Tensor::checked_nbytes(dtype, shape);
    return Tensor::wrap(dtype, shape, nullptr, nullptr);
  }
  if (!data.data()) bad(what + " has no data");
  return source(*data.data(), dtype, shape, what);
}

ir::Model read_model(const fb::Model& m, const BlobSource& source) {
  ir::Model model;
  model.ir_version = m.ir_version();
  model.producer_name = str(m.producer_name());
  model.producer_version = str(m.producer_version());
  model.domain = str(m.domain());
  model.doc_string = str(m.doc_string());
  model.model_version = m.model_version();
  if (m.metadata_props())
    for (const fb::MetadataProp* p : *m.metadata_props()) model.metadata_props[str(p->key())] = str(p->value());
  if (m.opsets())
    for (const fb::Opset* o : *m.opsets())
      if (!model.opset_imports.emplace(str(o->domain()), o->version()).second)
        bad("opset of domain '" + str(o->domain()) + "' is stored twice");
  if (!m.graph()) bad("the engine's model has no graph");
  model.graph = read_graph(*m.graph(), source);
  // Subgraphs read values of the graphs around them, so only the main graph is whole on its own.
  model.graph.validate();
  return model;
}

}  // namespace kiln::engine
