#include "onnx/importer.h"

#include <fcntl.h>
#include <malloc.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>

#include "onnx/tensor_proto.h"
#include "onnx/type_inference.h"

namespace kiln::onnx_io {
namespace {

[[noreturn]] void bad(const std::string& message) { throw Error(ErrorCode::InvalidModel, message); }

ir::Value value_from_proto(const onnx::ValueInfoProto& info) {
  ir::Value v;
  v.name = info.name();
  if (!info.has_type() || !info.type().has_tensor_type()) return v;  // sequences, maps: no tensor type
  const auto& tt = info.type().tensor_type();
  if (tt.has_elem_type()) {
    if (!is_known_dtype(tt.elem_type()))
      bad("value '" + info.name() + "' has unknown element type " + std::to_string(tt.elem_type()));
    v.dtype = static_cast<DType>(tt.elem_type());
  }
  if (tt.has_shape()) {
    std::vector<ir::Dim> dims;
    for (const auto& d : tt.shape().dim()) {
      if (d.has_dim_value()) {
        if (d.dim_value() < 0) bad("value '" + info.name() + "' has negative dimension " + std::to_string(d.dim_value()));
        dims.push_back({d.dim_value(), {}});
      } else {
        dims.push_back({-1, d.dim_param()});
      }
    }
    v.shape = std::move(dims);
  }
  return v;
}

// The protos are consumed: each initializer's raw bytes are freed once its tensor holds them, so
// that loading never holds a model's weights twice over.
ir::Graph graph_from_proto(onnx::GraphProto& g, const std::string& base_dir, int64_t ir_version);

ir::Attribute attribute_from_proto(onnx::AttributeProto& a, const ir::Node& node, const std::string& base_dir,
                                   int64_t ir_version) {
  const std::string what = node.describe() + " attribute '" + a.name() + "'";
  switch (a.type()) {
    case onnx::AttributeProto::FLOAT: return a.f();
    case onnx::AttributeProto::INT: return a.i();
    case onnx::AttributeProto::STRING: return a.s();
    case onnx::AttributeProto::TENSOR: return tensor_from_proto(a.t(), base_dir, what);
    case onnx::AttributeProto::GRAPH:
      return std::make_shared<ir::Graph>(graph_from_proto(*a.mutable_g(), base_dir, ir_version));
    case onnx::AttributeProto::FLOATS: return std::vector<float>(a.floats().begin(), a.floats().end());
    case onnx::AttributeProto::INTS: return std::vector<int64_t>(a.ints().begin(), a.ints().end());
    case onnx::AttributeProto::STRINGS: return std::vector<std::string>(a.strings().begin(), a.strings().end());
    case onnx::AttributeProto::TENSORS: {
      std::vector<Tensor> ts;
      for (const auto& t : a.tensors()) ts.push_back(tensor_from_proto(t, base_dir, what));
      return ts;
    }
    case onnx::AttributeProto::GRAPHS: {
      std::vector<std::shared_ptr<ir::Graph>> gs;
      for (auto& sub : *a.mutable_graphs())
        gs.push_back(std::make_shared<ir::Graph>(graph_from_proto(sub, base_dir, ir_version)));
      return gs;
    }
    case onnx::AttributeProto::SPARSE_TENSOR:
    case onnx::AttributeProto::SPARSE_TENSORS:
    case onnx::AttributeProto::TYPE_PROTO:
    case onnx::AttributeProto::TYPE_PROTOS:
      throw Error(ErrorCode::NotImplemented, what + ": this attribute kind is not supported");
    default:
      bad(what + " has no or an unknown type (" + std::to_string(static_cast<int>(a.type())) + ")");
  }
}

ir::Graph graph_from_proto(onnx::GraphProto& g, const std::string& base_dir, int64_t ir_version) {
  ir::Graph graph;
  graph.name = g.name();
  graph.doc_string = g.doc_string();
  for (auto& init : *g.mutable_initializer()) {
    if (init.name().empty()) bad("graph '" + g.name() + "' has an initializer without a name");
    Tensor t = tensor_from_proto(init, base_dir, "initializer '" + init.name() + "'");
    std::string().swap(*init.mutable_raw_data());
    if (!graph.initializers.emplace(init.name(), std::move(t)).second)
      bad("initializer '" + init.name() + "' is defined twice");
  }
  if (g.sparse_initializer_size() > 0)
    throw Error(ErrorCode::NotImplemented, "graph '" + g.name() + "' has sparse initializers, which are not supported");
  // Before IR version 4 every initializer was also listed as an input, and such inputs are
  // constants; from version 4 an initializer listed as an input is a default a run may replace
  // (as ONNX Runtime's overridable initializers).
  for (const auto& in : g.input()) {
    auto init = graph.initializers.find(in.name());
    if (init == graph.initializers.end()) {
      graph.inputs.push_back(value_from_proto(in));
    } else if (ir_version >= 4) {
      graph.inputs.push_back(value_from_proto(in));
      graph.input_defaults.insert(graph.initializers.extract(init));
    }
  }
  for (const auto& out : g.output()) graph.outputs.push_back(value_from_proto(out));
  for (const auto& vi : g.value_info()) graph.value_info[vi.name()] = value_from_proto(vi);
  int unnamed = 0;
  for (auto& n : *g.mutable_node()) {
    ir::Node node;
    node.op_type = n.op_type();
    node.domain = n.domain() == "ai.onnx" ? "" : n.domain();
    node.name = n.name().empty() ? n.op_type() + "_" + std::to_string(unnamed++) : n.name();
    if (node.op_type.empty()) bad("node '" + node.name + "' has no op_type");
    node.inputs.assign(n.input().begin(), n.input().end());
    node.outputs.assign(n.output().begin(), n.output().end());
    for (auto& a : *n.mutable_attribute()) {
      if (!node.attributes.emplace(a.name(), attribute_from_proto(a, node, base_dir, ir_version)).second)
        bad(node.describe() + " has attribute '" + a.name() + "' twice");
    }
    graph.nodes.push_back(std::move(node));
  }
  return graph;
}

// Every node, subgraphs included, must belong to a domain the model imports an opset for.
void check_domains(const ir::Graph& graph, const ir::Model& model) {
  for (const auto& node : graph.nodes) {
    if (!model.opset_imports.count(node.domain))
      bad(node.describe() + " uses domain '" + node.domain + "', for which the model imports no opset");
    for (const auto& [name, attribute] : node.attributes) {
      if (const auto* sub = std::get_if<std::shared_ptr<ir::Graph>>(&attribute)) check_domains(**sub, model);
      if (const auto* subs = std::get_if<std::vector<std::shared_ptr<ir::Graph>>>(&attribute))
        for (const auto& sub : *subs) check_domains(*sub, model);
    }
  }
}

void check_model_size(size_t size) {
  if (size > static_cast<size_t>(std::numeric_limits<int>::max()))
    bad("the model is larger than 2 GiB; keep large weights in external data files");
}

[[noreturn]] void not_a_model() {
  bad("the file is not a valid ONNX model (protobuf parsing failed: truncated, or fields of the wrong type)");
}

ir::Model model_from_proto(onnx::ModelProto& proto, const std::string& base_dir) {
  if (!proto.has_graph()) bad("the ONNX model has no graph");

  ir::Model model;
  model.ir_version = proto.ir_version();
  model.producer_name = proto.producer_name();
  model.producer_version = proto.producer_version();
  model.domain = proto.domain();
  model.doc_string = proto.doc_string();
  model.model_version = proto.model_version();
  for (const auto& prop : proto.metadata_props()) model.metadata_props[prop.key()] = prop.value();
  for (const auto& op : proto.opset_import()) {
    const std::string domain = op.domain() == "ai.onnx" ? "" : op.domain();
    if (!model.opset_imports.emplace(domain, op.version()).second)
      bad("the model imports an opset for domain '" + op.domain() + "' twice");
  }
  if (proto.opset_import_size() == 0) model.opset_imports[""] = 1;  // IR v2 models predate opset_import
  if (auto it = model.opset_imports.find(""); it != model.opset_imports.end() &&
                                              (it->second < kMinOpset || it->second > kMaxOpset))
    throw Error(ErrorCode::NotImplemented, "the model imports ai.onnx opset " + std::to_string(it->second) +
                                               "; Kiln supports opsets " + std::to_string(kMinOpset) + " to " +
                                               std::to_string(kMaxOpset));
  model.graph = graph_from_proto(*proto.mutable_graph(), base_dir, model.ir_version);
  check_domains(model.graph, model);
  model.graph.validate();
  // Only a structurally valid graph reaches ONNX's inference functions (see type_inference.h).
  infer_dtypes(*proto.mutable_graph(), model);
  return model;
}

}  // namespace

ir::Model load_model_from_bytes(const void* data, size_t size, const std::string& base_dir) {
  check_model_size(size);
  onnx::ModelProto proto;
  if (!proto.ParseFromArray(data, static_cast<int>(size))) not_a_model();
  return model_from_proto(proto, base_dir);
}

ir::Model load_model(const std::string& path) {
  // Protobuf parses from the file through a small buffer, neither reading the whole file into
  // memory nor mapping it (mapped pages count in the process's RSS while the weights are copied):
  // the weights are held once by the proto, then moved tensor by tensor into Kiln's.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(ErrorCode::Io, "cannot open model file '" + path + "': " + std::strerror(errno));
  const std::unique_ptr<int, void (*)(int*)> closer(new int(fd), [](int* f) {
    ::close(*f);
    delete f;
  });
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    throw Error(ErrorCode::Io, "model file '" + path + "' is not a regular file");
  try {
    check_model_size(static_cast<size_t>(st.st_size));
    ir::Model model;
    {
      onnx::ModelProto proto;
      google::protobuf::io::FileInputStream stream(fd);
      if (!proto.ParseFromZeroCopyStream(&stream)) {
        if (stream.GetErrno() != 0)
          throw Error(ErrorCode::Io, "cannot read model file: " + std::string(std::strerror(stream.GetErrno())));
        not_a_model();
      }
      model = model_from_proto(proto, std::filesystem::path(path).parent_path().string());
    }
#ifdef __GLIBC__
    // The parse buffers are freed by now; once glibc has seen large blocks freed it serves blocks
    // of their size from its heap, which it keeps unless asked to give it back.
    ::malloc_trim(0);
#endif
    return model;
  } catch (const Error& e) {
    throw Error(e.code(), path + ": " + e.what());
  }
}

}  // namespace kiln::onnx_io
