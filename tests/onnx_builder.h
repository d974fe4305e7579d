// Helpers for importer tests: build ONNX models with the generated protobuf classes in a few lines,
// serialize them the way a file holds them, and assert the kiln::Error a load must raise.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "kiln/session.h"
#include "onnx/importer.h"
#include "onnx/onnx_pb.h"

namespace kiln::testing {

// One dimension of a declared shape: a size, a symbol ("N"), or unknown (kUnknownDim).
struct DimSpec {
  DimSpec(int64_t dim_size) : size(dim_size) {}
  DimSpec(const char* dim_symbol) : symbol(dim_symbol) {}
  int64_t size = -1;
  std::string symbol;
};
inline const DimSpec kUnknownDim{int64_t{-1}};

inline void add_opset_import(onnx::ModelProto& model, const std::string& domain, int64_t version) {
  auto* import = model.add_opset_import();
  import->set_domain(domain);
  import->set_version(version);
}

// An empty graph named "main" with IR version 8 and one ai.onnx opset import.
inline onnx::ModelProto make_model(int64_t opset = 17, int64_t ir_version = 8) {
  onnx::ModelProto model;
  model.set_ir_version(ir_version);
  model.set_producer_name("kiln-tests");
  add_opset_import(model, "", opset);
  model.mutable_graph()->set_name("main");
  return model;
}

inline void set_tensor_type(onnx::ValueInfoProto& value, int32_t elem_type, const std::vector<DimSpec>& dims) {
  auto* tensor_type = value.mutable_type()->mutable_tensor_type();
  tensor_type->set_elem_type(elem_type);
  auto* shape = tensor_type->mutable_shape();
  for (const auto& d : dims) {
    auto* dim = shape->add_dim();
    if (!d.symbol.empty()) dim->set_dim_param(d.symbol);
    else if (d.size >= 0) dim->set_dim_value(d.size);
  }
}

inline onnx::ValueInfoProto& add_input(onnx::GraphProto& graph, const std::string& name, int32_t elem_type,
                                       const std::vector<DimSpec>& dims) {
  auto* value = graph.add_input();
  value->set_name(name);
  set_tensor_type(*value, elem_type, dims);
  return *value;
}

// An output without a declared type: the importer infers its dtype.
inline onnx::ValueInfoProto& add_output(onnx::GraphProto& graph, const std::string& name) {
  auto* value = graph.add_output();
  value->set_name(name);
  return *value;
}

inline onnx::NodeProto& add_node(onnx::GraphProto& graph, const std::string& op_type,
                                 const std::vector<std::string>& inputs, const std::vector<std::string>& outputs,
                                 const std::string& name = "") {
  auto* node = graph.add_node();
  node->set_op_type(op_type);
  node->set_name(name);
  for (const auto& in : inputs) node->add_input(in);
  for (const auto& out : outputs) node->add_output(out);
  return *node;
}

// An attribute of `type` whose value the caller sets.
inline onnx::AttributeProto& add_attribute(onnx::NodeProto& node, const std::string& name,
                                           onnx::AttributeProto::AttributeType type) {
  auto* attribute = node.add_attribute();
  attribute->set_name(name);
  attribute->set_type(type);
  return *attribute;
}

inline void add_int_attribute(onnx::NodeProto& node, const std::string& name, int64_t value) {
  add_attribute(node, name, onnx::AttributeProto::INT).set_i(value);
}

// A float tensor in float_data, or in raw_data when `raw` is set.
inline onnx::TensorProto float_tensor(const std::string& name, const std::vector<int64_t>& dims,
                                      const std::vector<float>& values, bool raw = false) {
  onnx::TensorProto tensor;
  tensor.set_name(name);
  tensor.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) tensor.add_dims(d);
  if (raw) tensor.set_raw_data(values.data(), values.size() * sizeof(float));
  else
    for (float v : values) tensor.add_float_data(v);
  return tensor;
}

inline onnx::TensorProto& add_initializer(onnx::GraphProto& graph, const onnx::TensorProto& tensor) {
  return *graph.add_initializer() = tensor;
}

// y = a + b, with a: float[N,3] fed by the caller and b: float[3] = {10, 20, 30} an initializer.
inline onnx::ModelProto make_add_model() {
  onnx::ModelProto model = make_model();
  auto& graph = *model.mutable_graph();
  add_input(graph, "a", onnx::TensorProto::FLOAT, {"N", 3});
  add_initializer(graph, float_tensor("b", {3}, {10, 20, 30}));
  add_node(graph, "Add", {"a", "b"}, {"y"}, "add");
  add_output(graph, "y");
  return model;
}

inline std::string serialize(const onnx::ModelProto& model) {
  std::string bytes;
  EXPECT_TRUE(model.SerializeToString(&bytes));
  return bytes;
}

inline ir::Model import(const onnx::ModelProto& model, const std::string& base_dir = "") {
  const std::string bytes = serialize(model);
  return onnx_io::load_model_from_bytes(bytes.data(), bytes.size(), base_dir);
}

inline Session make_session(const onnx::ModelProto& model, const SessionOptions& options = {}) {
  const std::string bytes = serialize(model);
  return Session(bytes.data(), bytes.size(), options);
}

// Runs `action` and asserts it throws kiln::Error with `code` and a message containing every fragment.
template <class Action>
void expect_error(Action&& action, ErrorCode code, const std::vector<std::string>& fragments) {
  try {
    action();
    ADD_FAILURE() << "expected a kiln::Error (" << error_code_name(code) << ")";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << error_code_name(e.code()) << ": " << e.what();
    for (const auto& fragment : fragments)
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
          << "'" << fragment << "' missing from: " << e.what();
  }
}

inline void expect_import_error(const onnx::ModelProto& model, ErrorCode code,
                                const std::vector<std::string>& fragments, const std::string& base_dir = "") {
  expect_error([&] { import(model, base_dir); }, code, fragments);
}

// A fresh directory under the system's temp dir, removed when the object goes.
class TempDir {
 public:
  explicit TempDir(const std::string& name)
      : path_(std::filesystem::temp_directory_path() / ("kiln_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  void write(const std::string& file, const std::string& bytes) const {
    std::ofstream out(path_ / file, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

 private:
  std::filesystem::path path_;
};

}  // namespace kiln::testing
