// Malformed and hostile models: each must fail with a kiln::Error whose code and message name the
// problem (and the node, op, value or tensor involved); none may crash or allocate what it lacks.
#include <google/protobuf/text_format.h>

#include <random>

#include "onnx_builder.h"

namespace kiln {
namespace {

using namespace testing;

// --- Bytes that are not a model -------------------------------------------------------------------

std::string load_bytes_error(const std::string& bytes) {
  try {
    onnx_io::load_model_from_bytes(bytes.data(), bytes.size(), "");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidModel) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "loading " << bytes.size() << " bytes succeeded";
  return "";
}

constexpr const char* kParseFailure = "protobuf parsing failed";

TEST(MalformedModel, TruncatedFile) {
  const onnx::ModelProto model = make_add_model();
  const std::string bytes = serialize(model);
  // Fields serialize in field-number order: ir_version, producer_name, graph, then opset_import.
  onnx::ModelProto header = model;
  header.clear_graph();
  header.clear_opset_import();
  onnx::ModelProto opsets;
  *opsets.mutable_opset_import() = model.opset_import();
  const size_t graph_begin = serialize(header).size();
  const size_t graph_end = bytes.size() - serialize(opsets).size();
  ASSERT_LT(graph_begin + 4, graph_end);

  // A cut inside a length-delimited field leaves it shorter than its declared length.
  const size_t middle = (graph_begin + graph_end) / 2;
  for (size_t cut : {graph_begin + 1, graph_begin + 2, middle, graph_end - 1, bytes.size() - 1}) {
    SCOPED_TRACE("cut at " + std::to_string(cut) + " of " + std::to_string(bytes.size()));
    EXPECT_NE(load_bytes_error(bytes.substr(0, cut)).find(kParseFailure), std::string::npos);
  }
  // A cut between fields parses, but what is left has no graph.
  for (size_t cut : {size_t{0}, graph_begin}) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    EXPECT_NE(load_bytes_error(bytes.substr(0, cut)).find("the ONNX model has no graph"), std::string::npos);
  }
}

TEST(MalformedModel, RandomGarbage) {
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 20; ++trial) {
    std::string bytes(16 + trial * 13, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    SCOPED_TRACE("trial " + std::to_string(trial));
    EXPECT_NE(load_bytes_error(bytes).find(kParseFailure), std::string::npos);
  }
}

// Hand-made protobuf bytes: `tag` is (field number << 3 | wire type).
std::string length_delimited(uint8_t tag, const std::string& payload) {
  EXPECT_LT(payload.size(), 128u);  // a one-byte varint length
  return std::string(1, static_cast<char>(tag)) + static_cast<char>(payload.size()) + payload;
}

TEST(MalformedModel, FieldsOfTheWrongWireType) {
  const std::string ir_version_8 = "\x08\x08";
  // ModelProto.graph (field 7) as a varint: protobuf keeps it as an unknown field.
  EXPECT_NE(load_bytes_error(ir_version_8 + "\x38\x01").find("the ONNX model has no graph"), std::string::npos);
  // ir_version (field 1) as a length-delimited field longer than the file.
  EXPECT_NE(load_bytes_error("\x0a\x64" "abc").find(kParseFailure), std::string::npos);
  // Wire type 7 does not exist; wire type 4 ends a group that never began.
  EXPECT_NE(load_bytes_error(ir_version_8 + "\x0f").find(kParseFailure), std::string::npos);
  EXPECT_NE(load_bytes_error(ir_version_8 + "\x0c").find(kParseFailure), std::string::npos);
  // NodeProto.op_type (field 4) as a varint: the node is left without an op_type.
  const std::string node = length_delimited(0x0a, "a") + length_delimited(0x12, "y") + length_delimited(0x1a, "n") +
                           "\x20\x05";
  const std::string graph = length_delimited(0x0a, node);
  EXPECT_NE(load_bytes_error(ir_version_8 + length_delimited(0x3a, graph)).find("node 'n' has no op_type"),
            std::string::npos);
}

// --- Graph structure ------------------------------------------------------------------------------

TEST(MalformedModel, MissingGraph) {
  onnx::ModelProto model = make_model();
  model.clear_graph();
  expect_import_error(model, ErrorCode::InvalidModel, {"the ONNX model has no graph"});
}

TEST(MalformedModel, NodeWithoutOpType) {
  onnx::ModelProto model = make_add_model();
  model.mutable_graph()->mutable_node(0)->clear_op_type();
  expect_import_error(model, ErrorCode::InvalidModel, {"node 'add' has no op_type"});
}

TEST(MalformedModel, DanglingInput) {
  onnx::ModelProto model = make_add_model();
  model.mutable_graph()->mutable_node(0)->set_input(1, "ghost");
  expect_import_error(model, ErrorCode::InvalidModel,
                      {"node 'add' (Add) input 'ghost' is neither a graph input, an initializer nor a node output"});
}

TEST(MalformedModel, TwoNodesDefineTheSameValue) {
  onnx::ModelProto model = make_add_model();
  add_node(*model.mutable_graph(), "Mul", {"a", "b"}, {"y"}, "second");
  expect_import_error(model, ErrorCode::InvalidModel, {"node 'second' (Mul) output 'y' is already defined elsewhere"});
}

TEST(MalformedModel, NodeRedefinesAGraphInput) {
  onnx::ModelProto model = make_add_model();
  add_node(*model.mutable_graph(), "Neg", {"y"}, {"a"}, "overwrite");
  expect_import_error(model, ErrorCode::InvalidModel, {"node 'overwrite' (Neg) output 'a' is already defined"});
}

TEST(MalformedModel, DuplicateInitializerAndInputNames) {
  onnx::ModelProto twice_initialized = make_add_model();
  add_initializer(*twice_initialized.mutable_graph(), float_tensor("b", {3}, {1, 2, 3}));
  expect_import_error(twice_initialized, ErrorCode::InvalidModel, {"initializer 'b' is defined twice"});

  onnx::ModelProto twice_declared = make_add_model();
  add_input(*twice_declared.mutable_graph(), "a", onnx::TensorProto::FLOAT, {3});
  expect_import_error(twice_declared, ErrorCode::InvalidModel, {"graph input 'a' is declared twice"});

  onnx::ModelProto unnamed = make_add_model();
  add_initializer(*unnamed.mutable_graph(), float_tensor("", {1}, {1}));
  expect_import_error(unnamed, ErrorCode::InvalidModel, {"graph 'main' has an initializer without a name"});
}

TEST(MalformedModel, CycleBetweenTwoNodes) {
  onnx::ModelProto model = make_model();
  auto& graph = *model.mutable_graph();
  add_input(graph, "a", onnx::TensorProto::FLOAT, {1});
  add_node(graph, "Add", {"a", "loop_b"}, {"loop_a"}, "first");
  add_node(graph, "Mul", {"loop_a", "a"}, {"loop_b"}, "second");
  add_output(graph, "loop_b");
  expect_import_error(model, ErrorCode::InvalidModel, {"the graph has a cycle through node 'first' (Add)"});

  onnx::ModelProto self_loop = make_model();
  add_input(*self_loop.mutable_graph(), "a", onnx::TensorProto::FLOAT, {1});
  add_node(*self_loop.mutable_graph(), "Add", {"a", "s"}, {"s"}, "selfish");
  expect_import_error(self_loop, ErrorCode::InvalidModel, {"cycle through node 'selfish' (Add)"});
}

TEST(MalformedModel, OutputNeverProduced) {
  onnx::ModelProto model = make_add_model();
  add_output(*model.mutable_graph(), "z");
  expect_import_error(model, ErrorCode::InvalidModel, {"graph output 'z' is never produced"});
}

// --- Ops, opsets and domains ----------------------------------------------------------------------

TEST(MalformedModel, UnknownOpFailsAtSessionCreation) {
  onnx::ModelProto model = make_add_model();
  add_node(*model.mutable_graph(), "FooBar", {"y"}, {"z"}, "mystery");
  add_output(*model.mutable_graph(), "z");
  EXPECT_NO_THROW(import(model));  // a valid model; only Kiln lacks the op
  expect_error([&] { make_session(model); }, ErrorCode::NotImplemented,
               {"node 'mystery' (FooBar)", "Kiln has no kernel for op 'FooBar'"});
}

TEST(MalformedModel, UnsupportedOpsetVersion) {
  onnx::ModelProto model = make_add_model();
  model.mutable_opset_import(0)->set_version(99);
  expect_import_error(model, ErrorCode::NotImplemented, {"ai.onnx opset 99", "Kiln supports opsets 1 to 18"});
}

TEST(MalformedModel, OpsetImportedTwice) {
  onnx::ModelProto model = make_add_model();
  *model.add_opset_import() = model.opset_import(0);
  expect_import_error(model, ErrorCode::InvalidModel, {"imports an opset for domain '' twice"});
}

TEST(MalformedModel, NodeDomainWithoutOpsetImport) {
  onnx::ModelProto model = make_add_model();
  add_node(*model.mutable_graph(), "Foo", {"y"}, {"z"}, "foreign").set_domain("com.example");
  expect_import_error(model, ErrorCode::InvalidModel,
                      {"node 'foreign' (com.example.Foo) uses domain 'com.example'", "imports no opset"});

  // The same inside a subgraph.
  onnx::ModelProto nested = make_add_model();
  auto& body = add_attribute(*nested.mutable_graph()->mutable_node(0), "body", onnx::AttributeProto::GRAPH);
  add_node(*body.mutable_g(), "Bar", {"a"}, {"inner"}, "deep").set_domain("org.other");
  expect_import_error(nested, ErrorCode::InvalidModel, {"node 'deep' (org.other.Bar) uses domain 'org.other'"});
}

// --- Tensors --------------------------------------------------------------------------------------

onnx::ModelProto model_with_initializer(const onnx::TensorProto& w) {
  onnx::ModelProto model = make_model();
  add_initializer(*model.mutable_graph(), w);
  add_output(*model.mutable_graph(), w.name());
  return model;
}

onnx::TensorProto tensor_with_dims(const std::vector<int64_t>& dims, int32_t data_type = onnx::TensorProto::FLOAT) {
  onnx::TensorProto w;
  w.set_name("w");
  w.set_data_type(data_type);
  for (int64_t d : dims) w.add_dims(d);
  return w;
}

TEST(MalformedModel, NegativeDims) {
  onnx::TensorProto w = tensor_with_dims({2, -2});
  expect_import_error(model_with_initializer(w), ErrorCode::InvalidModel,
                      {"initializer 'w': has negative dimension in shape [2,-2]"});

  onnx::ModelProto model = make_add_model();
  auto* shape = model.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
  shape->add_dim()->set_dim_value(-3);
  expect_import_error(model, ErrorCode::InvalidModel, {"value 'a' has negative dimension -3"});
}

TEST(MalformedModel, DimsWhoseProductOverflows) {
  const int64_t huge = int64_t{1} << 32;
  expect_import_error(model_with_initializer(tensor_with_dims({huge, huge})), ErrorCode::InvalidModel,
                      {"initializer 'w': shape [4294967296,4294967296] has too many elements"});
  expect_import_error(model_with_initializer(tensor_with_dims({1 << 20, 1 << 20})), ErrorCode::InvalidModel,
                      {"initializer 'w': shape [1048576,1048576] is larger than Kiln's tensor size limit"});
}

// 8 GiB of float32 is under Kiln's tensor size limit, so only the size check stops the allocation.
TEST(MalformedModel, AbsurdShapeWithTinyData) {
  onnx::TensorProto raw = tensor_with_dims({int64_t{1} << 28, 8});
  raw.set_raw_data(std::string(4, '\0'));
  expect_import_error(model_with_initializer(raw), ErrorCode::InvalidModel,
                      {"initializer 'w': raw_data holds 4 bytes, its shape [268435456,8] and dtype float32 need "
                       "8589934592"});

  onnx::TensorProto typed = tensor_with_dims({int64_t{1} << 28, 8});
  typed.add_float_data(1.f);
  expect_import_error(model_with_initializer(typed), ErrorCode::InvalidModel,
                      {"initializer 'w': holds 1 values but its shape [268435456,8] needs 2147483648"});

  onnx::TensorProto no_data = tensor_with_dims({int64_t{1} << 28, 8}, onnx::TensorProto::INT64);
  expect_import_error(model_with_initializer(no_data), ErrorCode::InvalidModel,
                      {"initializer 'w': holds 0 values but its shape [268435456,8] needs 2147483648"});
}

TEST(MalformedModel, TypedFieldCountMismatch) {
  onnx::TensorProto w = tensor_with_dims({3});
  w.add_float_data(1.f);
  w.add_float_data(2.f);
  expect_import_error(model_with_initializer(w), ErrorCode::InvalidModel,
                      {"initializer 'w': holds 2 values but its shape [3] needs 3"});
}

TEST(MalformedModel, UnknownDataTypes) {
  expect_import_error(model_with_initializer(tensor_with_dims({1}, 42)), ErrorCode::InvalidModel,
                      {"initializer 'w': unknown data type 42"});

  onnx::ModelProto model = make_add_model();
  model.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(99);
  expect_import_error(model, ErrorCode::InvalidModel, {"value 'a' has unknown element type 99"});

  onnx::TensorProto text = tensor_with_dims({1}, onnx::TensorProto::STRING);
  text.add_string_data("hi");
  expect_import_error(model_with_initializer(text), ErrorCode::NotImplemented,
                      {"initializer 'w': string tensors are not supported"});

  onnx::ModelProto sparse = make_add_model();
  sparse.mutable_graph()->add_sparse_initializer()->mutable_values()->set_name("s");
  expect_import_error(sparse, ErrorCode::NotImplemented, {"graph 'main' has sparse initializers"});
}

// --- External data --------------------------------------------------------------------------------

// A model whose initializer 'w' (float32[3]) lives in external data described by `entries`.
onnx::ModelProto model_with_external(const std::vector<std::pair<std::string, std::string>>& entries) {
  onnx::TensorProto w = tensor_with_dims({3});
  w.set_data_location(onnx::TensorProto::EXTERNAL);
  for (const auto& [key, value] : entries) {
    auto* entry = w.add_external_data();
    entry->set_key(key);
    entry->set_value(value);
  }
  return model_with_initializer(w);
}

TEST(MalformedModel, ExternalDataOutsideTheModelDirectory) {
  const TempDir dir("external_escape");
  const std::string base = dir.path().string();
  expect_import_error(model_with_external({{"location", "/etc/passwd"}}), ErrorCode::InvalidModel,
                      {"initializer 'w': external data location '/etc/passwd' must be relative to the model"}, base);
  expect_import_error(model_with_external({{"location", "../secret.bin"}}), ErrorCode::InvalidModel,
                      {"external data location '../secret.bin' leaves the model's directory"}, base);
  expect_import_error(model_with_external({{"location", "sub/../../secret.bin"}}), ErrorCode::InvalidModel,
                      {"leaves the model's directory"}, base);

  const TempDir outside("external_outside");
  outside.write("secret.bin", std::string(12, 's'));
  std::filesystem::create_symlink(outside.path() / "secret.bin", dir.path() / "link.bin");
  expect_import_error(model_with_external({{"location", "link.bin"}}), ErrorCode::InvalidModel,
                      {"external data location 'link.bin' resolves to", "outside the model's directory"}, base);

  // Bytes given without a directory have nowhere safe to look.
  expect_import_error(model_with_external({{"location", "w.bin"}}), ErrorCode::InvalidModel,
                      {"initializer 'w': has external data in 'w.bin'", "without a directory"});
}

TEST(MalformedModel, ExternalDataMissingOrShort) {
  const TempDir dir("external_short");
  const std::string base = dir.path().string();
  dir.write("w.bin", std::string(12, '\0'));
  expect_import_error(model_with_external({{"location", "missing.bin"}}), ErrorCode::Io,
                      {"initializer 'w': cannot open external data file", "missing.bin"}, base);
  expect_import_error(model_with_external({{"location", "w.bin"}, {"offset", "8"}, {"length", "12"}}),
                      ErrorCode::InvalidModel, {"external data range [8, +12) runs past the end", "(12 bytes)"}, base);
  expect_import_error(model_with_external({{"location", "w.bin"}, {"offset", "13"}}), ErrorCode::InvalidModel,
                      {"external data range [13, +0) runs past the end"}, base);
  expect_import_error(model_with_external({{"location", "w.bin"}, {"length", "8"}}), ErrorCode::InvalidModel,
                      {"initializer 'w': external data holds 8 bytes, its shape and dtype need 12"}, base);
  expect_import_error(model_with_external({{"location", "w.bin"}, {"offset", "4"}}), ErrorCode::InvalidModel,
                      {"external data holds 8 bytes"}, base);
  expect_import_error(model_with_external({{"location", "w.bin"}, {"offset", "-4"}}), ErrorCode::InvalidModel,
                      {"external data offset and length must not be negative"}, base);
  expect_import_error(model_with_external({{"location", "w.bin"}, {"offset", "abc"}}), ErrorCode::InvalidModel,
                      {"external data offset 'abc' is not a number"}, base);
  expect_import_error(model_with_external({{"offset", "0"}}), ErrorCode::InvalidModel,
                      {"external data has no location"}, base);
}

// --- Attributes -----------------------------------------------------------------------------------

TEST(MalformedModel, AttributeWithUndefinedType) {
  onnx::ModelProto model = make_add_model();
  // A value, but no type saying which field holds it.
  add_attribute(*model.mutable_graph()->mutable_node(0), "alpha", onnx::AttributeProto::UNDEFINED).set_f(1.f);
  expect_import_error(model, ErrorCode::InvalidModel, {"node 'add' (Add) attribute 'alpha' has no or an unknown type"});
}

TEST(MalformedModel, DuplicateAttribute) {
  onnx::ModelProto model = make_add_model();
  auto& node = *model.mutable_graph()->mutable_node(0);
  add_int_attribute(node, "alpha", 1);
  add_int_attribute(node, "alpha", 2);
  expect_import_error(model, ErrorCode::InvalidModel, {"node 'add' (Add) has attribute 'alpha' twice"});
}

TEST(MalformedModel, BadTensorInsideAnAttribute) {
  onnx::ModelProto model = make_model();
  auto& node = add_node(*model.mutable_graph(), "Constant", {}, {"c"}, "const");
  auto& value = add_attribute(node, "value", onnx::AttributeProto::TENSOR);
  *value.mutable_t() = tensor_with_dims({2}, 42);
  add_output(*model.mutable_graph(), "c");
  expect_import_error(model, ErrorCode::InvalidModel,
                      {"node 'const' (Constant) attribute 'value': unknown data type 42"});

  value.set_type(onnx::AttributeProto::SPARSE_TENSOR);
  expect_import_error(model, ErrorCode::NotImplemented,
                      {"node 'const' (Constant) attribute 'value': this attribute kind is not supported"});
}

// --- Models that crashed ONNX 1.12's own shape inference ------------------------------------------

// Each was found by a generator of hostile single-node models and crashed (SEGV or SIGFPE) inside
// onnx::shape_inference::InferShapes. They are structurally valid, so Kiln imports them and
// reports the op it cannot run when a session is created.
struct InferenceCrasher {
  const char* name;
  const char* blamed_node;  // the node session creation must name
  const char* text;         // the model in protobuf text format
};

const InferenceCrasher kInferenceCrashers[] = {
    {"Split with no outputs divides by zero", "split", R"pb(
      ir_version: 8 opset_import { domain: "" version: 2 }
      graph { name: "main"
        input { name: "x" type { tensor_type { elem_type: 1 shape { dim { dim_value: 4 } } } } }
        node { op_type: "Split" input: "x" name: "split" } })pb"},
    {"DictVectorizer fed by an unknown op reads a null type", "producer", R"pb(
      ir_version: 8 opset_import { domain: "" version: 17 } opset_import { domain: "ai.onnx.ml" version: 1 }
      opset_import { domain: "custom" version: 1 }
      graph { name: "main"
        node { op_type: "Unknown" domain: "custom" output: "m" name: "producer" }
        node { op_type: "DictVectorizer" domain: "ai.onnx.ml" input: "m" output: "y" name: "vectorize"
               attribute { name: "int64_vocabulary" ints: 1 ints: 2 type: INTS } }
        output { name: "y" } })pb"},
    {"CategoryMapper on an untyped input reads a null type", "map", R"pb(
      ir_version: 8 opset_import { domain: "" version: 17 } opset_import { domain: "ai.onnx.ml" version: 1 }
      graph { name: "main"
        input { name: "x" }
        node { op_type: "CategoryMapper" domain: "ai.onnx.ml" input: "x" output: "y" name: "map" }
        output { name: "y" } })pb"},
    {"GRU-3 on rank-0 inputs reads dims that do not exist", "gru", R"pb(
      ir_version: 8 opset_import { domain: "" version: 3 }
      graph { name: "main"
        input { name: "x" type { tensor_type { elem_type: 1 shape { } } } }
        input { name: "w" type { tensor_type { elem_type: 1 shape { } } } }
        input { name: "r" type { tensor_type { elem_type: 1 shape { } } } }
        node { op_type: "GRU" input: "x" input: "w" input: "r" output: "y" name: "gru" }
        output { name: "y" } })pb"},
    {"GatherND with batch_dims -100 indexes out of range", "gather", R"pb(
      ir_version: 8 opset_import { domain: "" version: 13 }
      graph { name: "main"
        input { name: "data" type { tensor_type { elem_type: 1 shape { dim { dim_value: 2 } dim { dim_value: 3 } } } } }
        input { name: "indices"
                type { tensor_type { elem_type: 7 shape { dim { dim_value: 2 } dim { dim_value: 1 } } } } }
        node { op_type: "GatherND" input: "data" input: "indices" output: "y" name: "gather"
               attribute { name: "batch_dims" i: -100 type: INT } }
        output { name: "y" } })pb"},
    {"LayerNormalization of a scalar reads a null dim", "norm", R"pb(
      ir_version: 8 opset_import { domain: "" version: 17 }
      graph { name: "main"
        input { name: "x" type { tensor_type { elem_type: 1 shape { } } } }
        input { name: "scale" type { tensor_type { elem_type: 1 shape { dim { dim_value: 1 } } } } }
        node { op_type: "LayerNormalization" input: "x" input: "scale" output: "y" output: "mean" output: "inv_std"
               name: "norm" }
        output { name: "y" } })pb"},
    {"Scan without num_scan_inputs reads a null attribute", "scan", R"pb(
      ir_version: 8 opset_import { domain: "" version: 16 }
      graph { name: "main"
        input { name: "x" type { tensor_type { elem_type: 1 shape { dim { dim_value: 2 } } } } }
        node { op_type: "Scan" input: "x" output: "y" name: "scan"
               attribute { name: "body" type: GRAPH g { name: "body" } } }
        output { name: "y" } })pb"},
};

TEST(MalformedModel, ModelsThatCrashedOnnxShapeInferenceLoad) {
  for (const auto& crasher : kInferenceCrashers) {
    SCOPED_TRACE(crasher.name);
    onnx::ModelProto model;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(crasher.text, &model));
    EXPECT_NO_THROW(import(model));
    // Whether a session can be built depends on which kernels exist; when it cannot, the error
    // must name the node rather than crash.
    try {
      const Session session = make_session(model);
      std::map<std::string, Tensor> feeds;
      for (const auto& in : session.inputs()) {
        Shape shape;
        for (int64_t d : in.shape.value_or(Shape{})) shape.push_back(d < 0 ? 1 : d);
        feeds[in.name] = Tensor::zeros(in.dtype, shape);
      }
      session.run(feeds);
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("node '" + std::string(crasher.blamed_node) + "'"), std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
}  // namespace kiln
