// Import of valid ONNX models: every way a tensor, an attribute, a type and an opset can be
// written, checked against the ir::Model it becomes, and small models run through kiln::Session.
#include <cstring>
#include <functional>

#include "onnx_builder.h"
#include "test_util.h"

namespace kiln {
namespace {

using namespace testing;

struct TypedFieldCase {
  int32_t data_type;
  std::function<void(onnx::TensorProto&)> fill;  // writes two values into the dtype's typed field
  std::vector<double> expected;
};

TEST(OnnxImport, InitializersFromEveryTypedField) {
  const std::vector<TypedFieldCase> cases = {
      {onnx::TensorProto::FLOAT, [](auto& t) { t.add_float_data(1.5f); t.add_float_data(-2.f); }, {1.5, -2}},
      {onnx::TensorProto::DOUBLE, [](auto& t) { t.add_double_data(0.25); t.add_double_data(1e10); }, {0.25, 1e10}},
      {onnx::TensorProto::INT64, [](auto& t) { t.add_int64_data(-5); t.add_int64_data(int64_t{1} << 40); },
       {-5, 1099511627776.0}},
      {onnx::TensorProto::INT32, [](auto& t) { t.add_int32_data(-7); t.add_int32_data(123456); }, {-7, 123456}},
      {onnx::TensorProto::INT16, [](auto& t) { t.add_int32_data(-300); t.add_int32_data(300); }, {-300, 300}},
      {onnx::TensorProto::UINT16, [](auto& t) { t.add_int32_data(65535); t.add_int32_data(1); }, {65535, 1}},
      {onnx::TensorProto::INT8, [](auto& t) { t.add_int32_data(-128); t.add_int32_data(127); }, {-128, 127}},
      {onnx::TensorProto::UINT8, [](auto& t) { t.add_int32_data(255); t.add_int32_data(0); }, {255, 0}},
      {onnx::TensorProto::BOOL, [](auto& t) { t.add_int32_data(0); t.add_int32_data(5); }, {0, 1}},
      // float16 and bfloat16 travel as bit patterns: 0x3C00 = 1.0h, 0xC000 = -2.0h, 0x4040 = 3.0bf16.
      {onnx::TensorProto::FLOAT16, [](auto& t) { t.add_int32_data(0x3C00); t.add_int32_data(0xC000); }, {1, -2}},
      {onnx::TensorProto::BFLOAT16, [](auto& t) { t.add_int32_data(0x3F80); t.add_int32_data(0x4040); }, {1, 3}},
      {onnx::TensorProto::UINT32, [](auto& t) { t.add_uint64_data(4000000000u); t.add_uint64_data(7); },
       {4000000000.0, 7}},
      {onnx::TensorProto::UINT64, [](auto& t) { t.add_uint64_data(uint64_t{1} << 40); t.add_uint64_data(9); },
       {1099511627776.0, 9}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(dtype_name(static_cast<DType>(c.data_type)));
    onnx::ModelProto model = make_model();
    onnx::TensorProto tensor;
    tensor.set_name("w");
    tensor.set_data_type(c.data_type);
    tensor.add_dims(2);
    c.fill(tensor);
    add_initializer(*model.mutable_graph(), tensor);
    add_output(*model.mutable_graph(), "w");
    const ir::Model imported = import(model);
    const Tensor& w = imported.graph.initializers.at("w");
    ASSERT_EQ(w.dtype(), static_cast<DType>(c.data_type));
    ASSERT_EQ(w.shape(), Shape{2});
    for (int64_t i = 0; i < 2; ++i) EXPECT_EQ(w.value_as_double(i), c.expected[static_cast<size_t>(i)]) << i;
  }
}

TEST(OnnxImport, InitializersFromRawData) {
  onnx::ModelProto model = make_model();
  auto& graph = *model.mutable_graph();
  add_initializer(graph, float_tensor("matrix", {2, 2}, {1, 2, 3, 4}, /*raw=*/true));
  add_initializer(graph, float_tensor("scalar", {}, {7.5f}, /*raw=*/true));
  add_initializer(graph, float_tensor("empty", {0, 3}, {}, /*raw=*/true));
  onnx::TensorProto flags;
  flags.set_name("flags");
  flags.set_data_type(onnx::TensorProto::BOOL);
  flags.add_dims(3);
  flags.set_raw_data(std::string("\x00\x01\x02", 3));  // 2 is no valid bool byte: it must read as true
  add_initializer(graph, flags);
  const std::vector<int64_t> longs = {-1, int64_t{1} << 50};
  onnx::TensorProto ints;
  ints.set_name("ints");
  ints.set_data_type(onnx::TensorProto::INT64);
  ints.add_dims(2);
  ints.set_raw_data(longs.data(), longs.size() * sizeof(int64_t));
  add_initializer(graph, ints);

  const auto& inits = import(model).graph.initializers;
  expect_tensor_near(inits.at("matrix"), Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4}), 0, 0);
  expect_tensor_near(inits.at("scalar"), Tensor::scalar(7.5f), 0, 0);
  EXPECT_EQ(inits.at("empty").shape(), (Shape{0, 3}));
  const Tensor& imported_flags = inits.at("flags");
  ASSERT_EQ(imported_flags.dtype(), DType::Bool);
  const auto* flag_bytes = static_cast<const uint8_t*>(imported_flags.raw());
  EXPECT_EQ(std::vector<uint8_t>(flag_bytes, flag_bytes + 3), (std::vector<uint8_t>{0, 1, 1}));
  EXPECT_EQ(inits.at("ints").to_int64_vector(), longs);
}

void set_external(onnx::TensorProto& tensor, const std::vector<std::pair<std::string, std::string>>& entries) {
  tensor.set_data_location(onnx::TensorProto::EXTERNAL);
  for (const auto& [key, value] : entries) {
    auto* entry = tensor.add_external_data();
    entry->set_key(key);
    entry->set_value(value);
  }
}

std::string float_bytes(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

TEST(OnnxImport, ExternalDataWithOffsetAndLength) {
  const TempDir dir("external_ok");
  // b sits 16 bytes into weights.bin, followed by bytes that are not its; c fills data/c.bin.
  dir.write("weights.bin", std::string(16, 'x') + float_bytes({10, 20, 30}) + "trailing");
  std::filesystem::create_directories(dir.path() / "data");
  dir.write("data/c.bin", float_bytes({1, 2, 3}));

  onnx::ModelProto model = make_model();
  auto& graph = *model.mutable_graph();
  add_input(graph, "a", onnx::TensorProto::FLOAT, {2, 3});
  auto& b = add_initializer(graph, float_tensor("b", {3}, {}));
  set_external(b, {{"location", "weights.bin"}, {"offset", "16"}, {"length", "12"}});
  auto& c = add_initializer(graph, float_tensor("c", {3}, {}));
  set_external(c, {{"location", "data/c.bin"}});
  add_node(graph, "Add", {"a", "b"}, {"t"});
  add_node(graph, "Add", {"t", "c"}, {"y"});
  add_output(graph, "y");
  dir.write("model.onnx", serialize(model));

  const ir::Model imported = onnx_io::load_model((dir.path() / "model.onnx").string());
  expect_tensor_near(imported.graph.initializers.at("b"), Tensor::from_vector<float>({3}, {10, 20, 30}), 0, 0);
  expect_tensor_near(imported.graph.initializers.at("c"), Tensor::from_vector<float>({3}, {1, 2, 3}), 0, 0);

  const Session session((dir.path() / "model.onnx").string());
  const auto out = session.run({{"a", Tensor::from_vector<float>({2, 3}, {0, 1, 2, 3, 4, 5})}});
  expect_tensor_near(out.at("y"), Tensor::from_vector<float>({2, 3}, {11, 23, 35, 14, 26, 38}), 0, 0);

  // The same bytes given in memory find their data through base_dir.
  const std::string bytes = serialize(model);
  const Session from_bytes(bytes.data(), bytes.size(), {}, dir.path().string());
  EXPECT_EQ(from_bytes.inputs().size(), 1u);
}

TEST(OnnxImport, EveryAttributeKind) {
  onnx::ModelProto model = make_model();
  add_opset_import(model, "test.custom", 1);
  auto& graph = *model.mutable_graph();
  add_input(graph, "a", onnx::TensorProto::FLOAT, {2});
  auto& node = add_node(graph, "Everything", {"a"}, {"y"}, "everything");
  node.set_domain("test.custom");
  add_output(graph, "y");

  auto attribute = [&](const std::string& name, onnx::AttributeProto::AttributeType type) {
    return &add_attribute(node, name, type);
  };
  auto subgraph = [](onnx::GraphProto& g, const std::string& name) {
    g.set_name(name);
    add_node(g, "Neg", {"a"}, {name + "_out"});  // reads the outer graph's 'a'
    add_output(g, name + "_out");
  };
  attribute("f", onnx::AttributeProto::FLOAT)->set_f(0.5f);
  attribute("i", onnx::AttributeProto::INT)->set_i(-3);
  attribute("s", onnx::AttributeProto::STRING)->set_s("hello");
  *attribute("t", onnx::AttributeProto::TENSOR)->mutable_t() = float_tensor("", {2}, {1, 2});
  subgraph(*attribute("g", onnx::AttributeProto::GRAPH)->mutable_g(), "then");
  auto* floats = attribute("floats", onnx::AttributeProto::FLOATS);
  floats->add_floats(1.5f);
  floats->add_floats(2.5f);
  auto* ints = attribute("ints", onnx::AttributeProto::INTS);
  for (int64_t v : {4, 5, 6}) ints->add_ints(v);
  auto* strings = attribute("strings", onnx::AttributeProto::STRINGS);
  strings->add_strings("x");
  strings->add_strings("");
  auto* tensors = attribute("tensors", onnx::AttributeProto::TENSORS);
  *tensors->add_tensors() = float_tensor("", {1}, {7});
  *tensors->add_tensors() = float_tensor("", {2}, {8, 9}, /*raw=*/true);
  auto* graphs = attribute("graphs", onnx::AttributeProto::GRAPHS);
  subgraph(*graphs->add_graphs(), "first");
  subgraph(*graphs->add_graphs(), "second");

  const ir::Model imported = import(model);
  const auto& attrs = imported.graph.nodes.at(0).attributes;
  ASSERT_EQ(attrs.size(), 10u);
  EXPECT_EQ(std::get<float>(attrs.at("f")), 0.5f);
  EXPECT_EQ(std::get<int64_t>(attrs.at("i")), -3);
  EXPECT_EQ(std::get<std::string>(attrs.at("s")), "hello");
  expect_tensor_near(std::get<Tensor>(attrs.at("t")), Tensor::from_vector<float>({2}, {1, 2}), 0, 0);
  const auto& then_graph = *std::get<std::shared_ptr<ir::Graph>>(attrs.at("g"));
  EXPECT_EQ(then_graph.name, "then");
  ASSERT_EQ(then_graph.nodes.size(), 1u);
  EXPECT_EQ(then_graph.nodes[0].op_type, "Neg");
  EXPECT_EQ(then_graph.nodes[0].inputs, std::vector<std::string>{"a"});
  EXPECT_EQ(std::get<std::vector<float>>(attrs.at("floats")), (std::vector<float>{1.5f, 2.5f}));
  EXPECT_EQ(std::get<std::vector<int64_t>>(attrs.at("ints")), (std::vector<int64_t>{4, 5, 6}));
  EXPECT_EQ(std::get<std::vector<std::string>>(attrs.at("strings")), (std::vector<std::string>{"x", ""}));
  const auto& tensor_list = std::get<std::vector<Tensor>>(attrs.at("tensors"));
  ASSERT_EQ(tensor_list.size(), 2u);
  expect_tensor_near(tensor_list[1], Tensor::from_vector<float>({2}, {8, 9}), 0, 0);
  const auto& graph_list = std::get<std::vector<std::shared_ptr<ir::Graph>>>(attrs.at("graphs"));
  ASSERT_EQ(graph_list.size(), 2u);
  EXPECT_EQ(graph_list[1]->outputs.at(0).name, "second_out");
  EXPECT_STREQ(ir::attribute_kind_name(attrs.at("graphs")), "graphs");
}

TEST(OnnxImport, OpsetImportsForSeveralDomains) {
  onnx::ModelProto model = make_model(13);
  add_opset_import(model, "ai.onnx.ml", 3);
  add_opset_import(model, "com.example", 2);
  auto& graph = *model.mutable_graph();
  add_input(graph, "a", onnx::TensorProto::FLOAT, {1});
  add_node(graph, "Add", {"a", "a"}, {"y"}).set_domain("ai.onnx");  // the default domain's long name
  add_node(graph, "Frobnicate", {"y"}, {"z"}).set_domain("com.example");
  add_output(graph, "z");

  const ir::Model imported = import(model);
  EXPECT_EQ(imported.opset_imports, (std::map<std::string, int64_t>{{"", 13}, {"ai.onnx.ml", 3}, {"com.example", 2}}));
  EXPECT_EQ(imported.opset("ai.onnx"), 13);
  EXPECT_EQ(imported.opset("com.example"), 2);
  EXPECT_EQ(imported.graph.nodes[0].domain, "");
  EXPECT_EQ(imported.graph.nodes[1].describe(), "node 'Frobnicate_1' (com.example.Frobnicate)");
  expect_error([&] { imported.opset("org.other"); }, ErrorCode::InvalidModel, {"'org.other'", "imports no opset"});
}

TEST(OnnxImport, ValueInfoWithSymbolicAndUnknownDims) {
  onnx::ModelProto model = make_model();
  auto& graph = *model.mutable_graph();
  add_input(graph, "x", onnx::TensorProto::FLOAT, {"batch", kUnknownDim, 4});
  auto* rank_unknown = graph.add_input();
  rank_unknown->set_name("r");
  rank_unknown->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  graph.add_input()->set_name("untyped");
  auto* declared = graph.add_value_info();
  declared->set_name("t");
  set_tensor_type(*declared, onnx::TensorProto::FLOAT, {"batch", 5, 4});
  add_node(graph, "Add", {"x", "x"}, {"t"});
  add_node(graph, "Mul", {"t", "r"}, {"u"});
  add_node(graph, "Mul", {"u", "untyped"}, {"y"});
  add_output(graph, "y");

  const ir::Model imported = import(model);
  const auto& inputs = imported.graph.inputs;
  ASSERT_EQ(inputs.size(), 3u);
  ASSERT_TRUE(inputs[0].shape.has_value());
  EXPECT_EQ(ir::dims_to_string(*inputs[0].shape), "[batch,?,4]");
  EXPECT_EQ((*inputs[0].shape)[0].size, -1);
  EXPECT_FALSE((*inputs[0].shape)[1].is_static());
  EXPECT_EQ((*inputs[0].shape)[2].size, 4);
  EXPECT_EQ(inputs[1].dtype, DType::Float32);
  EXPECT_FALSE(inputs[1].shape.has_value());
  EXPECT_EQ(inputs[2].dtype, DType::Undefined);

  const auto t = imported.graph.find_value("t");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(ir::dims_to_string(*t->shape), "[batch,5,4]");
  EXPECT_EQ(imported.graph.find_value("u")->dtype, DType::Float32);
  // An untyped operand leaves the result's dtype to be found at run time.
  EXPECT_FALSE(imported.graph.find_value("y").has_value());
}

TEST(OnnxImport, InfersDtypesOfUnannotatedValues) {
  onnx::ModelProto model = make_model();
  add_opset_import(model, "test.custom", 1);
  auto& graph = *model.mutable_graph();
  add_input(graph, "x", onnx::TensorProto::INT64, {2});
  onnx::TensorProto k;
  k.set_name("k");
  k.set_data_type(onnx::TensorProto::INT64);
  k.add_dims(1);
  k.add_int64_data(3);
  add_initializer(graph, k);
  add_node(graph, "Add", {"x", "k"}, {"sum"});
  add_int_attribute(add_node(graph, "Cast", {"sum"}, {"as_float"}), "to", onnx::TensorProto::FLOAT);
  add_node(graph, "Greater", {"as_float", "as_float"}, {"y"});
  add_node(graph, "GreaterOrEqual", {"x", "k"}, {"at_least"});  // opset 16+: a function body, no inference function
  add_node(graph, "Mystery", {"x"}, {"m"}).set_domain("test.custom");
  add_node(graph, "Add", {"m", "m"}, {"after_mystery"});
  add_output(graph, "y");
  add_output(graph, "at_least");
  add_output(graph, "after_mystery");

  const ir::Graph& imported = import(model).graph;
  EXPECT_EQ(imported.find_value("sum")->dtype, DType::Int64);
  EXPECT_EQ(imported.find_value("as_float")->dtype, DType::Float32);
  EXPECT_EQ(imported.find_value("y")->dtype, DType::Bool);
  EXPECT_EQ(imported.find_value("at_least")->dtype, DType::Bool);
  EXPECT_FALSE(imported.find_value("m").has_value());
  EXPECT_FALSE(imported.find_value("after_mystery").has_value());
}

TEST(OnnxImport, IrVersion3InitializersListedAsInputsAreNotFeeds) {
  onnx::ModelProto model = make_add_model();
  model.set_ir_version(3);
  add_input(*model.mutable_graph(), "b", onnx::TensorProto::FLOAT, {3});

  const ir::Model imported = import(model);
  ASSERT_EQ(imported.graph.inputs.size(), 1u);
  EXPECT_EQ(imported.graph.inputs[0].name, "a");
  EXPECT_EQ(imported.ir_version, 3);
  EXPECT_EQ(imported.producer_name, "kiln-tests");

  const Session session = make_session(model);
  ASSERT_EQ(session.inputs().size(), 1u);
  const auto out = session.run({{"a", Tensor::from_vector<float>({1, 3}, {1, 2, 3})}});
  expect_tensor_near(out.at("y"), Tensor::from_vector<float>({1, 3}, {11, 22, 33}), 0, 0);
}

TEST(OnnxImport, AddRunsEndToEndThroughSession) {
  const Session session = make_session(make_add_model());
  ASSERT_EQ(session.inputs().size(), 1u);
  const TensorInfo& a = session.inputs()[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.dtype, DType::Float32);
  EXPECT_EQ(a.shape, (Shape{-1, 3}));
  EXPECT_EQ(a.dim_names, (std::vector<std::string>{"N", ""}));
  ASSERT_EQ(session.outputs().size(), 1u);
  EXPECT_EQ(session.outputs()[0].name, "y");
  EXPECT_EQ(session.outputs()[0].dtype, DType::Float32);  // inferred: the model declares no type

  const auto out = session.run({{"a", Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6})}});
  expect_tensor_near(out.at("y"), Tensor::from_vector<float>({2, 3}, {11, 22, 33, 14, 25, 36}), 0, 0);
}

TEST(OnnxImport, NodesInAnyFileOrderRunInDependencyOrder) {
  onnx::ModelProto model = make_model();
  auto& graph = *model.mutable_graph();
  add_input(graph, "a", onnx::TensorProto::FLOAT, {3});
  add_node(graph, "Add", {"square", "a"}, {"y"});  // consumes a value defined by the next node
  add_node(graph, "Mul", {"a", "a"}, {"square"});
  add_output(graph, "y");

  const ir::Model imported = import(model);
  EXPECT_EQ(imported.graph.nodes[0].name, "Add_0");  // unnamed nodes get op_index names
  EXPECT_EQ(imported.graph.topological_order(), (std::vector<size_t>{1, 0}));
  const auto out = make_session(model).run({{"a", Tensor::from_vector<float>({3}, {1, 2, 3})}});
  expect_tensor_near(out.at("y"), Tensor::from_vector<float>({3}, {2, 6, 12}), 0, 0);
}

}  // namespace
}  // namespace kiln
