// Engine files (src/engine): what an engine runs is what its ONNX model runs, loading does no
// optimization and no packing, and damaged, foreign or hostile files are refused with an error
// saying what to do, never a crash or a wrong answer.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <random>

#include "core/hash.h"
#include "engine/engine_file.h"
#include "engine/engine_format.h"
#include "engine/engine_writer.h"
#include "engine_models.h"
#include "level_sweep.h"
#include "core/npy.h"
#include "onnx/exporter.h"
#include "onnx/importer.h"
#include "quant/calibration_data.h"
#include "quant/quantizer.h"
#include "runtime/plan.h"

namespace kiln {
namespace {

using testing::expect_error;
using testing::TempDir;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Builds `model` into an engine with `options` (optimized_model_path set here) and returns its bytes.
std::string build_engine(const onnx::ModelProto& model, SessionOptions options, const TempDir& dir) {
  options.optimized_model_path = (dir.path() / "model.kiln").string();
  testing::make_session(model, options);
  return read_file(options.optimized_model_path);
}

Session engine_session(const std::string& bytes, const SessionOptions& options = {}) {
  return Session(bytes.data(), bytes.size(), options);
}

void expect_same_outputs(const std::map<std::string, Tensor>& a, const std::map<std::string, Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, t] : a) {
    SCOPED_TRACE(name);
    ASSERT_EQ(t.shape(), b.at(name).shape());
    EXPECT_EQ(testing::float_values(t), testing::float_values(b.at(name)));
  }
}

// Recomputes the metadata's and the header's checksums after a test edits the metadata: what a
// hostile file, rather than a damaged one, would hold.
void refresh_checksums(std::string& bytes) {
  engine::FileHeader header;
  std::memcpy(&header, bytes.data(), sizeof header);
  header.metadata_xxh64 = xxh64(bytes.data() + header.metadata_offset, header.metadata_size);
  header.header_xxh64 = xxh64(&header, offsetof(engine::FileHeader, header_xxh64));
  std::memcpy(bytes.data(), &header, sizeof header);
}

void replace_once(std::string& bytes, const std::string& from, const std::string& to) {
  ASSERT_EQ(from.size(), to.size());
  const size_t at = bytes.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  bytes.replace(at, from.size(), to);
}

class EngineLevels : public ::testing::TestWithParam<CpuLevel> {};

TEST_P(EngineLevels, RunsAsItsOnnxModelDoesBitForBit) {
  const TempDir dir("engine_levels");
  const onnx::ModelProto model = testing::make_mixed_model();
  for (int level : {1, 2, 3}) {
    SCOPED_TRACE("optimization level " + std::to_string(level));
    const SessionOptions options{.threads = 2, .optimization_level = level, .cpu_level = cpu_level_name(GetParam())};
    const Session direct = testing::make_session(model, options);
    const Session engine = engine_session(build_engine(model, options, dir), {.threads = 2});
    EXPECT_EQ(engine.cpu_level(), cpu_level_name(GetParam()));
    for (int64_t batch : {1, 3})
      expect_same_outputs(engine.run(testing::mixed_model_feeds(batch, 10)), direct.run(testing::mixed_model_feeds(batch, 10)));
  }
}
KILN_INSTANTIATE_LEVEL_SWEEP(EngineLevels);

// Asks the engine's store for everything and fails any request that would pack.
class NoPackingStore final : public WeightStore {
 public:
  explicit NoPackingStore(WeightStore& stored) : stored_(stored) {}
  PreparedWeights get(std::string_view key, size_t bytes, const Pack&) override {
    ++requests;
    return stored_.get(key, bytes, [&](std::byte*) { ADD_FAILURE() << "packed '" << key << "' at load"; });
  }
  PreparedWeights view(std::string_view key, size_t bytes, const std::function<PreparedWeights()>&) override {
    ++requests;
    return stored_.view(key, bytes, [&] {
      ADD_FAILURE() << "read '" << key << "' at load";
      return PreparedWeights();
    });
  }
  int requests = 0;

 private:
  WeightStore& stored_;
};

TEST(EngineFile, LoadsWithoutOptimizingOrPacking) {
  const TempDir dir("engine_no_packing");
  const std::string bytes = build_engine(testing::make_mixed_model(), {}, dir);
  const auto file = engine::EngineFile::from_bytes(bytes.data(), bytes.size(), "mixed.kiln");
  const auto stored = file->prepared_weights();
  NoPackingStore store(*stored);
  const runtime::Plan plan(file->model(), {}, {.weights = &store, .prebuilt_for = file->build().cpu_level});
  EXPECT_TRUE(plan.optimizer_report().empty());
  EXPECT_GT(store.requests, 0);
  EXPECT_TRUE(stored->unused().empty());
  // Weights the kernels prepared are stored once, prepared: the file keeps no copy of them as they
  // came (w1..w4 and the biases), only the tensors kernels read as they are.
  const ir::Model loaded = file->model();
  for (const char* packed : {"w1", "w3", "w4", "b4"}) {
    SCOPED_TRACE(packed);
    const auto it = loaded.graph.initializers.find(packed);
    if (it != loaded.graph.initializers.end()) {
      EXPECT_EQ(it->second.raw(), nullptr);
    }
  }
  EXPECT_TRUE(engine_session(bytes).optimizer_report().empty());
}

// A quantized model's int8 kernels keep their packed weights in the engine too (the GEMM's panels,
// the channels-last convolutions'), and run as the ONNX model does, bit for bit, without packing.
TEST(EngineFile, RunsAQuantizedModelAsItsOnnxModelDoes) {
  const TempDir dir("engine_int8");
  const Tensor images = read_npy(std::string(KILN_SOURCE_DIR) + "/models/digits/heldout_images.npy");
  std::vector<std::map<std::string, Tensor>> samples;
  for (int64_t i = 0; i < 8; ++i) {
    Tensor one(DType::Float32, {1, 1, 8, 8});
    std::copy_n(images.data<float>() + i * 64, 64, one.data<float>());
    samples.push_back({{"image", one}});
  }
  const ir::Model quantized =
      quant::quantize_static(onnx_io::load_model(std::string(KILN_SOURCE_DIR) + "/models/digits/digits_cnn.onnx"),
                             quant::CalibrationSampleList(samples), {})
          .model;
  const onnx::ModelProto model = onnx_io::model_to_proto(quantized);
  const std::string bytes = build_engine(model, {}, dir);
  const auto file = engine::EngineFile::from_bytes(bytes.data(), bytes.size(), "digits.int8.kiln");
  const auto stored = file->prepared_weights();
  NoPackingStore store(*stored);
  const runtime::Plan plan(file->model(), {}, {.weights = &store, .prebuilt_for = file->build().cpu_level});
  EXPECT_GT(store.requests, 0);
  const std::map<std::string, Tensor> feeds = {{"image", images}};
  expect_same_outputs(engine_session(bytes).run(feeds), testing::make_session(model, {}).run(feeds));
}

TEST(EngineFile, KeepsMetadataAndOverridableInitializers) {
  const TempDir dir("engine_metadata");
  const onnx::ModelProto model = testing::make_mixed_model();
  const Session direct = testing::make_session(model);
  const Session engine = engine_session(build_engine(model, {}, dir));
  for (const Session* s : {&direct, &engine}) {
    const ModelMetadata& m = s->metadata();
    EXPECT_EQ(m.producer_name, "kiln-tests");
    EXPECT_EQ(m.producer_version, "7.1");
    EXPECT_EQ(m.domain, "test.kiln");
    EXPECT_EQ(m.description, "a model for engine tests");
    EXPECT_EQ(m.graph_name, "main");
    EXPECT_EQ(m.graph_description, "the main graph");
    EXPECT_EQ(m.version, 42);
    EXPECT_EQ(m.custom_metadata_map, (std::map<std::string, std::string>{{"purpose", "tests"}}));
    ASSERT_EQ(s->inputs().size(), 2u);
    ASSERT_EQ(s->overridable_initializers().size(), 1u);
    EXPECT_EQ(s->overridable_initializers()[0].name, "scale");
    auto feeds = testing::mixed_model_feeds(2, 5);
    const Tensor z = feeds.at("z");
    const Tensor by_default = s->run(feeds, {"v"})[0];
    feeds["scale"] = Tensor::from_vector<float>({1}, {-3.f});
    const Tensor overridden = s->run(feeds, {"v"})[0];
    for (int64_t i = 0; i < z.numel(); ++i) {
      EXPECT_EQ(by_default.data<float>()[i], z.data<float>()[i] * 2.f);
      EXPECT_EQ(overridden.data<float>()[i], z.data<float>()[i] * -3.f);
    }
  }
}

TEST(EngineFile, RunsFromAFileAndListsItsBuild) {
  const TempDir dir("engine_path");
  const std::string model_path = (dir.path() / "mixed.onnx").string();
  dir.write("mixed.onnx", testing::serialize(testing::make_mixed_model()));
  const std::string engine_path = (dir.path() / "mixed.kiln").string();
  const Session direct(model_path, {.dim_overrides = {{"N", 2}}, .optimized_model_path = engine_path});
  const Session engine(engine_path);
  ASSERT_EQ(engine.inputs()[0].shape, (Shape{2, 8, 6, 6}));
  expect_same_outputs(engine.run(testing::mixed_model_feeds(2, 3)), direct.run(testing::mixed_model_feeds(2, 3)));
  const auto file = engine::EngineFile::open(engine_path);
  const engine::BuildInfo& b = file->build();
  EXPECT_EQ(b.source_name, model_path);
  const std::string source = read_file(model_path);
  EXPECT_EQ(b.source_bytes, source.size());
  EXPECT_EQ(b.source_xxh64, xxh64(source.data(), source.size()));
  EXPECT_EQ(b.dim_overrides, (std::map<std::string, int64_t>{{"N", 2}}));
  EXPECT_EQ(b.optimization_level, 3);
  EXPECT_EQ(b.cpu_features, cpu_level_features(b.cpu_level));
  EXPECT_GT(file->prepared_bytes(), 0u);
}

TEST(EngineFile, RefusesOptionsFixedWhenItWasBuilt) {
  const TempDir dir("engine_options");
  const std::string bytes = build_engine(testing::make_mixed_model(), {.cpu_level = "scalar"}, dir);
  expect_error([&] { engine_session(bytes, {.dim_overrides = {{"N", 1}}}); }, ErrorCode::InvalidArgument,
               {"dim_overrides", "kiln build", "--dim"});
  if (detected_cpu_level() >= CpuLevel::Avx2)
    expect_error([&] { engine_session(bytes, {.cpu_level = "avx2"}); }, ErrorCode::InvalidArgument,
                 {"cpu_level is 'avx2'", "built for 'scalar'", "--cpu-level avx2"});
  expect_error([&] { engine_session(bytes, {.optimized_model_path = (dir.path() / "x.onnx").string()}); },
               ErrorCode::InvalidArgument, {"optimized_model_path", "engine file"});
}

TEST(EngineFile, RoundTripsEveryAttributeKind) {
  ir::Model model;
  model.opset_imports = {{"", 17}, {"kiln", 1}};
  model.graph.name = "g";
  model.graph.inputs.push_back({"in", DType::Float32, std::vector<ir::Dim>{{-1, "batch"}, {3, ""}, {-1, ""}}});
  model.graph.outputs.push_back({"out", DType::Undefined, std::nullopt});
  auto sub = std::make_shared<ir::Graph>();
  sub->name = "body";
  sub->nodes.push_back({"inner", "Identity", "", {"in"}, {"inner_out"}, {}});
  sub->outputs.push_back({"inner_out", DType::Float32, std::nullopt});
  ir::Node node{"all", "Custom", "kiln", {"in", ""}, {"out"}, {}};
  node.attributes = {{"f", 1.5f},
                     {"i", int64_t{-7}},
                     {"s", std::string("text\n\"quoted\"")},
                     {"t", Tensor::from_vector<int64_t>({2}, {4, 5})},
                     {"g", sub},
                     {"floats", std::vector<float>{1.f, -2.f}},
                     {"ints", std::vector<int64_t>{3, 4, 5}},
                     {"strings", std::vector<std::string>{"a", ""}},
                     {"tensors", std::vector<Tensor>{Tensor::from_vector<float>({1}, {9.f}), Tensor(DType::Int8, {0})}},
                     {"graphs", std::vector<std::shared_ptr<ir::Graph>>{sub, sub}}};
  model.graph.nodes.push_back(node);
  model.graph.initializers["unused_weights"] = Tensor::wrap(DType::Float32, {1000, 1000}, nullptr, nullptr);
  const TempDir dir("engine_attributes");
  const std::string path = (dir.path() / "a.kiln").string();
  engine::write_engine(path, {.build = engine::describe_build(CpuLevel::Scalar, "test", 0, 0), .model = &model});
  const ir::Model back = engine::EngineFile::open(path)->model();
  ASSERT_EQ(back.graph.nodes.size(), 1u);
  const ir::Node& n = back.graph.nodes[0];
  EXPECT_EQ(n.inputs, node.inputs);
  EXPECT_EQ(std::get<float>(n.attributes.at("f")), 1.5f);
  EXPECT_EQ(std::get<int64_t>(n.attributes.at("i")), -7);
  EXPECT_EQ(std::get<std::string>(n.attributes.at("s")), "text\n\"quoted\"");
  EXPECT_EQ(std::get<Tensor>(n.attributes.at("t")).to_int64_vector(), (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(std::get<std::shared_ptr<ir::Graph>>(n.attributes.at("g"))->nodes[0].name, "inner");
  EXPECT_EQ(std::get<std::vector<float>>(n.attributes.at("floats")), (std::vector<float>{1.f, -2.f}));
  EXPECT_EQ(std::get<std::vector<int64_t>>(n.attributes.at("ints")), (std::vector<int64_t>{3, 4, 5}));
  EXPECT_EQ(std::get<std::vector<std::string>>(n.attributes.at("strings")), (std::vector<std::string>{"a", ""}));
  const auto& tensors = std::get<std::vector<Tensor>>(n.attributes.at("tensors"));
  ASSERT_EQ(tensors.size(), 2u);
  EXPECT_EQ(tensors[0].data<float>()[0], 9.f);
  EXPECT_EQ(tensors[1].dtype(), DType::Int8);
  EXPECT_EQ(tensors[1].numel(), 0);
  EXPECT_EQ(std::get<std::vector<std::shared_ptr<ir::Graph>>>(n.attributes.at("graphs")).size(), 2u);
  ASSERT_TRUE(back.graph.inputs[0].shape);
  EXPECT_EQ((*back.graph.inputs[0].shape)[0].symbol, "batch");
  EXPECT_EQ((*back.graph.inputs[0].shape)[1].size, 3);
  EXPECT_EQ((*back.graph.inputs[0].shape)[2].size, -1);
  const Tensor& unused = back.graph.initializers.at("unused_weights");
  EXPECT_EQ(unused.raw(), nullptr);
  EXPECT_EQ(unused.shape(), (Shape{1000, 1000}));
}

class DamagedEngine : public ::testing::Test {
 protected:
  void SetUp() override { bytes_ = build_engine(testing::make_mixed_model(), {.threads = 1}, dir_); }

  // A load either fails with a kiln::Error that says to rebuild, or (hostile files only) gives a
  // session whose run fails cleanly or completes; never a crash.
  static void expect_refused(const std::string& bytes, const std::string& what) {
    try {
      engine_session(bytes);
      ADD_FAILURE() << what << ": loaded";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("kiln build"), std::string::npos) << what << ": " << e.what();
    }
  }

  TempDir dir_{"engine_damaged"};
  std::string bytes_;
};

TEST_F(DamagedEngine, TruncatedFilesAreRefused) {
  // Under 8 bytes the magic is cut too: nothing says the file was an engine, and it is read as ONNX.
  for (size_t size : {size_t{0}, size_t{7}})
    expect_error([&] { engine_session(bytes_.substr(0, size)); }, ErrorCode::InvalidModel, {"ONNX model"});
  for (size_t size : {size_t{8}, size_t{63}, size_t{64}, size_t{65}, bytes_.size() / 2, bytes_.size() - 1})
    expect_refused(bytes_.substr(0, size), "truncated to " + std::to_string(size));
  for (size_t size = 8; size < bytes_.size(); size += bytes_.size() / 97 + 1)
    expect_refused(bytes_.substr(0, size), "truncated to " + std::to_string(size));
  expect_error([&] { engine_session(bytes_.substr(0, bytes_.size() - 1)); }, ErrorCode::InvalidModel, {"(truncated)"});
}

TEST_F(DamagedEngine, EveryCorruptedByteIsRefused) {
  std::mt19937 rng(2026);
  for (int i = 0; i < 300; ++i) {
    std::string bytes = bytes_;
    const size_t at = std::uniform_int_distribution<size_t>(0, bytes.size() - 1)(rng);
    bytes[at] = static_cast<char>(bytes[at] ^ (1 << std::uniform_int_distribution<int>(0, 7)(rng)));
    // A flip in a blob's alignment padding changes no byte anything reads: such a file still runs,
    // and must give the same answers.
    try {
      const Session session = engine_session(bytes);
      expect_same_outputs(session.run(testing::mixed_model_feeds(1, 1)),
                          engine_session(bytes_).run(testing::mixed_model_feeds(1, 1)));
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("kiln build"), std::string::npos) << "byte " << at << ": " << e.what();
    }
  }
  std::string header = bytes_;
  header[20] ^= 1;
  expect_error([&] { engine_session(header); }, ErrorCode::InvalidModel, {"(bytes)", "corrupted header", "kiln build"});
  std::string metadata = bytes_;
  metadata[100] ^= 1;
  expect_error([&] { engine_session(metadata); }, ErrorCode::InvalidModel, {"corrupted metadata", "kiln build"});
  std::string weights = bytes_;
  weights[weights.size() - 70] ^= 1;
  expect_error([&] { engine_session(weights); }, ErrorCode::InvalidModel, {"is corrupted", "kiln build"});
}

TEST_F(DamagedEngine, HostileMetadataNeverCrashes) {
  engine::FileHeader header;
  std::memcpy(&header, bytes_.data(), sizeof header);
  std::mt19937 rng(19);
  for (int i = 0; i < 400; ++i) {
    std::string bytes = bytes_;
    for (int flips = 0; flips < 1 + i % 4; ++flips) {
      const size_t at = header.metadata_offset +
                        std::uniform_int_distribution<size_t>(0, header.metadata_size - 1)(rng);
      bytes[at] = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
    }
    refresh_checksums(bytes);
    try {
      const Session session = engine_session(bytes);
      session.run(testing::mixed_model_feeds(1, 1));
    } catch (const Error&) {
    }
  }
}

TEST_F(DamagedEngine, OtherFormatVersionsAreRefused) {
  std::string bytes = bytes_;
  engine::FileHeader header;
  std::memcpy(&header, bytes.data(), sizeof header);
  header.format_version = engine::kEngineFormatVersion + 1;
  header.header_xxh64 = xxh64(&header, offsetof(engine::FileHeader, header_xxh64));
  std::memcpy(bytes.data(), &header, sizeof header);
  expect_error([&] { engine_session(bytes); }, ErrorCode::NotImplemented,
               {"format version " + std::to_string(engine::kEngineFormatVersion + 1),
                "reads version " + std::to_string(engine::kEngineFormatVersion), "kiln build"});
}

TEST_F(DamagedEngine, CpusWithoutItsFeaturesAreRefused) {
  const std::vector<std::string> features = cpu_level_features(detected_cpu_level());
  if (features.empty()) GTEST_SKIP() << "this CPU runs the scalar level only: its engines need no features";
  std::string bytes = bytes_;
  const std::string& feature = features.back();
  std::string unknown = feature;
  unknown.back() = unknown.back() == 'X' ? 'Y' : 'X';
  replace_once(bytes, feature, unknown);
  refresh_checksums(bytes);
  expect_error([&] { engine_session(bytes); }, ErrorCode::NotImplemented,
               {"built for CPU level", "needs " + unknown, "which this CPU lacks", "kiln build"});
}

TEST_F(DamagedEngine, ForeignFilesAreNotTakenForEngines) {
  expect_error([&] { engine_session(std::string(200, 'x')); }, ErrorCode::InvalidModel, {"ONNX model"});
  std::string not_kiln = bytes_;
  not_kiln[3] = 'X';
  expect_error([&] { engine_session(not_kiln); }, ErrorCode::InvalidModel, {"ONNX model"});
}

TEST(Xxh64, MatchesTheReferenceImplementation) {
  // Values from the reference xxhsum -H1 (Debian's xxhash package).
  EXPECT_EQ(xxh64("", 0), 0xef46db3751d8e999ull);
  EXPECT_EQ(xxh64("abc", 3), 0x44bc2cf5ad770999ull);
  const std::string spam = "Nobody inspects the spammish repetition";
  EXPECT_EQ(xxh64(spam.data(), spam.size()), 0xfbcea83c8a378bf1ull);
  const std::string xs(100, 'x');
  EXPECT_EQ(xxh64(xs.data(), xs.size()), 0x92f0de5a88a3c094ull);
  const std::string more(1000, 'x');
  EXPECT_EQ(xxh64(more.data(), more.size()), 0x4cb9a3b69cb700e1ull);
}

}  // namespace
}  // namespace kiln
