// Deterministic fuzzing of the importer and the session: seeded mutations of valid model bytes, and
// hostile single-node models for every op ONNX knows. Each case must load (and then run or fail
// with kiln::Error) or be refused with kiln::Error; a crash, a hang or any other exception fails.
#include <random>

#include "onnx/defs/schema.h"
#include "onnx_builder.h"

namespace kiln {
namespace {

using namespace testing;

// The three models the mutations start from, serialized.
std::vector<std::string> seed_models() {
  std::vector<std::string> seeds = {serialize(make_add_model())};

  // Every tensor encoding and a declared intermediate: h = ((x * w) - k > 0) && flags.
  onnx::ModelProto chain = make_model();
  auto& graph = *chain.mutable_graph();
  add_input(graph, "x", onnx::TensorProto::FLOAT, {"batch", 2});
  add_initializer(graph, float_tensor("w", {2}, {0.5f, -1.f}, /*raw=*/true));
  add_initializer(graph, float_tensor("k", {1}, {0.25f}));
  add_initializer(graph, float_tensor("zero", {}, {0.f}));
  onnx::TensorProto flags;
  flags.set_name("flags");
  flags.set_data_type(onnx::TensorProto::BOOL);
  flags.add_dims(2);
  flags.set_raw_data(std::string("\x01\x00", 2));
  add_initializer(graph, flags);
  set_tensor_type(*graph.add_value_info(), onnx::TensorProto::FLOAT, {"batch", 2});
  graph.mutable_value_info(0)->set_name("t");
  add_node(graph, "Mul", {"x", "w"}, {"t"}, "scale");
  add_node(graph, "Sub", {"t", "k"}, {"u"}, "shift");
  add_node(graph, "Greater", {"u", "zero"}, {"g"}, "positive");
  add_node(graph, "And", {"g", "flags"}, {"h"}, "mask");
  add_output(graph, "u");
  add_output(graph, "h");
  seeds.push_back(serialize(chain));

  // An IR 3 model with a custom opset and a node carrying attributes of many kinds, subgraph included.
  onnx::ModelProto attributed = make_add_model();
  attributed.set_ir_version(3);
  add_input(*attributed.mutable_graph(), "b", onnx::TensorProto::FLOAT, {3});
  add_opset_import(attributed, "test.custom", 1);
  auto& node = *attributed.mutable_graph()->mutable_node(0);
  node.set_op_type("Max");
  add_int_attribute(node, "i", 7);
  add_attribute(node, "floats", onnx::AttributeProto::FLOATS).add_floats(1.f);
  add_attribute(node, "s", onnx::AttributeProto::STRING).set_s("text");
  *add_attribute(node, "t", onnx::AttributeProto::TENSOR).mutable_t() = float_tensor("", {2}, {1, 2}, /*raw=*/true);
  auto* g = add_attribute(node, "g", onnx::AttributeProto::GRAPH).mutable_g();
  add_node(*g, "Neg", {"a"}, {"neg"}).set_domain("test.custom");
  add_output(*g, "neg");
  seeds.push_back(serialize(attributed));
  return seeds;
}

std::string mutate(std::string bytes, std::mt19937& rng) {
  auto pick = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  const int mutations = rng() % 4 == 0 ? 2 + static_cast<int>(rng() % 3) : 1;
  for (int m = 0; m < mutations; ++m) {
    switch (rng() % 5) {
      case 0:  // flip one bit
        if (!bytes.empty()) bytes[pick(bytes.size())] ^= static_cast<char>(1 << (rng() % 8));
        break;
      case 1: {  // a byte that often means something: zero, all ones, varint continuation, sign
        static const char kInteresting[] = {'\x00', '\xff', '\x7f', '\x80', '\x01'};
        if (!bytes.empty()) bytes[pick(bytes.size())] = kInteresting[rng() % 5];
        break;
      }
      case 2:  // truncate
        bytes.resize(pick(bytes.size() + 1));
        break;
      case 3: {  // insert random bytes
        std::string noise(1 + rng() % 8, '\0');
        for (char& c : noise) c = static_cast<char>(rng());
        bytes.insert(pick(bytes.size() + 1), noise);
        break;
      }
      default: {  // duplicate a range somewhere else
        const size_t begin = pick(bytes.size());
        const std::string range = bytes.substr(begin, 1 + rng() % 32);
        bytes.insert(pick(bytes.size() + 1), range);
      }
    }
  }
  return bytes;
}

// Random feeds of the declared dtypes and shapes (unknown dims 1..3); nullopt when the declared
// size is too large to be worth running. Values stay small so that integer ops cannot overflow.
std::optional<std::map<std::string, Tensor>> random_feeds(const Session& session, std::mt19937& rng) {
  std::map<std::string, Tensor> feeds;
  for (const auto& info : session.inputs()) {
    const DType dtype = info.dtype == DType::Undefined ? DType::Float32 : info.dtype;
    if (dtype_size(dtype) == 0) return std::nullopt;
    Shape shape;
    int64_t numel = 1;
    for (int64_t d : info.shape.value_or(Shape{})) {
      shape.push_back(d >= 0 ? d : 1 + static_cast<int64_t>(rng() % 3));
      if (shape.back() > 4096 || (numel *= shape.back()) > 4096) return std::nullopt;
    }
    Tensor t = Tensor::zeros(dtype, shape);
    auto* bytes = static_cast<uint8_t*>(t.raw());
    for (int64_t i = 0; i < t.numel(); ++i) {
      if (dtype == DType::Float32) t.data<float>()[i] = static_cast<float>(rng() % 9) - 4.f;
      else bytes[static_cast<size_t>(i) * dtype_size(dtype)] = static_cast<uint8_t>(rng() % 2);  // low byte
    }
    feeds.emplace(info.name, t);
  }
  return feeds;
}

TEST(ImportFuzz, MutatedModelsLoadOrFailCleanly) {
  const auto seeds = seed_models();
  for (const auto& seed : seeds) ASSERT_NO_THROW(Session(seed.data(), seed.size())) << "seed models must be valid";

  std::mt19937 rng(20240611);
  int loaded = 0, ran = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    const std::string bytes = mutate(seeds[static_cast<size_t>(trial) % seeds.size()], rng);
    try {
      const Session session(bytes.data(), bytes.size());
      ++loaded;
      if (const auto feeds = random_feeds(session, rng)) {
        session.run(*feeds);
        ++ran;
      }
    } catch (const Error&) {
      // refused, or a run failed cleanly: both fine
    } catch (const std::exception& e) {
      ADD_FAILURE() << "trial " << trial << " threw a non-kiln exception: " << e.what();
    }
  }
  RecordProperty("loaded", loaded);
  RecordProperty("ran", ran);
  // The mutations must exercise both paths, not only the protobuf parser.
  EXPECT_GT(loaded, 100);
  EXPECT_GT(ran, 50);
}

// --- Hostile single-node models for every ONNX op schema -----------------------------------------

class HostileNodeGenerator {
 public:
  explicit HostileNodeGenerator(uint32_t seed) : rng_(seed) {}

  // A model with one `schema` node whose operands are typeless, of random dtype and rank, constant,
  // produced by an unknown op, or absent, and whose attributes hold extreme values or the wrong kind.
  onnx::ModelProto model_for(const onnx::OpSchema& schema) {
    onnx::ModelProto model = make_model(schema.domain().empty() ? std::max(schema.SinceVersion(), 1) : 17);
    if (!schema.domain().empty()) add_opset_import(model, schema.domain(), schema.SinceVersion());
    add_opset_import(model, "test.custom", 1);
    auto& graph = *model.mutable_graph();
    auto& node = add_node(graph, schema.Name(), {}, {}, "hostile");
    node.set_domain(schema.domain());
    const int inputs = pick(std::min<int>(schema.max_input(), 6) + 1);
    for (int i = 0; i < inputs; ++i) add_operand(graph, node, "in" + std::to_string(i));
    const int outputs = pick(std::min<int>(schema.max_output(), 4) + 1);
    for (int i = 0; i < outputs; ++i) {
      node.add_output("out" + std::to_string(i));
      add_output(graph, node.output(i));
    }
    for (const auto& [name, declared] : schema.attributes()) {
      if (pick(3) == 0) continue;
      fill_attribute(add_attribute(node, name, pick(8) == 0 ? random_attribute_type() : declared.type));
    }
    return model;
  }

 private:
  int pick(int n) { return n <= 0 ? 0 : static_cast<int>(rng_() % static_cast<uint32_t>(n)); }
  int64_t extreme() {
    static const int64_t kValues[] = {-1, 0, 1, 2, 3, -100, 1000, INT64_MIN, INT64_MAX};
    return kValues[pick(9)];
  }
  int32_t random_elem_type() {
    static const int32_t kTypes[] = {1, 7, 9, 6, 10, 8, 2, 11};
    return kTypes[pick(8)];
  }
  onnx::AttributeProto::AttributeType random_attribute_type() {
    return static_cast<onnx::AttributeProto::AttributeType>(1 + pick(10));
  }

  void add_operand(onnx::GraphProto& graph, onnx::NodeProto& node, const std::string& name) {
    switch (pick(6)) {
      case 0: node.add_input(""); return;  // absent optional input
      case 1: graph.add_input()->set_name(name); break;  // no type at all
      case 2: {
        std::vector<DimSpec> dims;
        for (int r = pick(5); r > 0; --r) dims.push_back(pick(4) == 0 ? DimSpec("N") : DimSpec(int64_t{pick(4)}));
        add_input(graph, name, random_elem_type(), dims);
        break;
      }
      case 3: *graph.add_initializer() = small_tensor(name); break;
      default: add_node(graph, "Unknown", {}, {name}).set_domain("test.custom");  // a value of unknown type
    }
    node.add_input(name);
  }

  onnx::TensorProto small_tensor(const std::string& name) {
    onnx::TensorProto tensor;
    tensor.set_name(name);
    tensor.set_data_type(onnx::TensorProto::INT64);
    for (int r = pick(3); r > 0; --r) tensor.add_dims(1);
    tensor.add_int64_data(extreme());
    return tensor;
  }

  void fill_attribute(onnx::AttributeProto& attribute) {
    switch (attribute.type()) {
      case onnx::AttributeProto::FLOAT: attribute.set_f(static_cast<float>(extreme())); break;
      case onnx::AttributeProto::INT: attribute.set_i(extreme()); break;
      case onnx::AttributeProto::STRING: attribute.set_s(pick(2) ? "" : "NOTSET"); break;
      case onnx::AttributeProto::TENSOR: *attribute.mutable_t() = small_tensor(""); break;
      case onnx::AttributeProto::GRAPH: attribute.mutable_g()->set_name("empty"); break;
      case onnx::AttributeProto::FLOATS:
        for (int n = pick(4); n > 0; --n) attribute.add_floats(static_cast<float>(extreme()));
        break;
      case onnx::AttributeProto::INTS:
        for (int n = pick(5); n > 0; --n) attribute.add_ints(extreme());
        break;
      case onnx::AttributeProto::STRINGS:
        for (int n = pick(3); n > 0; --n) attribute.add_strings("a");
        break;
      case onnx::AttributeProto::TENSORS:
        for (int n = pick(3); n > 0; --n) *attribute.add_tensors() = small_tensor("");
        break;
      default: break;  // graphs, sparse tensors, type protos: present but empty
    }
  }

  std::mt19937 rng_;
};

// ONNX 1.12's own inference functions crash on many of these; Kiln's importer must not.
TEST(ImportFuzz, HostileNodesOfEveryOnnxOp) {
  HostileNodeGenerator generator(7);
  int loaded = 0, cases = 0;
  for (const auto& schema : onnx::OpSchemaRegistry::get_all_schemas_with_history()) {
    for (int variant = 0; variant < 3; ++variant, ++cases) {
      const onnx::ModelProto model = generator.model_for(schema);
      try {
        import(model);
        ++loaded;
      } catch (const Error&) {
        // refused with a message: fine
      } catch (const std::exception& e) {
        ADD_FAILURE() << schema.Name() << "-" << schema.SinceVersion() << " threw a non-kiln exception: " << e.what();
      }
    }
  }
  EXPECT_GT(cases, 1000);
  EXPECT_GT(loaded, cases / 4);
}

}  // namespace
}  // namespace kiln
