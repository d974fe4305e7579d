// nn::Module: dotted parameter names, strict state-dict loading and its error lists, dtype
// conversion, and save -> load round trips through safetensors.
#include "llm/nn/module.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <random>

#include "kernels/cpu/weight_gemv.h"
#include "llm/nn/layers.h"
#include "llm/safetensors.h"
#include "ops/cpu/cast.h"
#include "level_sweep.h"
#include "map_state_source.h"
#include "test_util.h"

namespace kiln::llm::nn {
namespace {

using kiln::testing::map_source;

class Block : public Module {
 public:
  Block() : norm(register_module("norm", std::make_unique<RmsNorm>(4, 1e-5))),
            proj(register_module("proj", std::make_unique<Linear>(4, 3, true))) {}
  RmsNorm& norm;
  Linear& proj;
};

class Net : public Module {
 public:
  Net() : embed(register_module("embed", std::make_unique<Embedding>(5, 4))),
          blocks(register_module("blocks", std::make_unique<ModuleList<Block>>())) {
    blocks.append(std::make_unique<Block>());
    blocks.append(std::make_unique<Block>());
  }
  Embedding& embed;
  ModuleList<Block>& blocks;
};


std::map<std::string, Tensor> full_weights() {
  std::map<std::string, Tensor> w;
  uint32_t seed = 1;
  for (const auto& [name, shape] : std::vector<std::pair<std::string, Shape>>{
           {"embed.weight", {5, 4}}, {"blocks.0.norm.weight", {4}}, {"blocks.0.proj.weight", {3, 4}},
           {"blocks.0.proj.bias", {3}}, {"blocks.1.norm.weight", {4}}, {"blocks.1.proj.weight", {3, 4}},
           {"blocks.1.proj.bias", {3}}})
    w[name] = testing::random_tensor(shape, seed++);
  return w;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(NnModule, NamesParametersByDottedPathsInRegistrationOrder) {
  Net net;
  std::vector<std::string> names;
  for (const auto& [name, t] : net.named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"embed.weight", "blocks.0.norm.weight", "blocks.0.proj.weight",
                                             "blocks.0.proj.bias", "blocks.1.norm.weight", "blocks.1.proj.weight",
                                             "blocks.1.proj.bias"}));
  EXPECT_EQ(net.parameter_count(), 20 + 2 * (4 + 12 + 3));
  EXPECT_NE(error_of([&] { net.parameter("blocks.2.proj.weight"); }).find("no parameter 'blocks.2.proj.weight'"), std::string::npos);
}

TEST(NnModule, LoadsAStateDictAndComputesWithIt) {
  Net net;
  const auto weights = full_weights();
  net.load_state_dict(map_source(weights));
  EXPECT_EQ(net.parameter("blocks.1.proj.bias").data<float>()[2], weights.at("blocks.1.proj.bias").data<float>()[2]);
  // The loaded Linear computes x W^T + b.
  const float x[4] = {1, -2, 0.5f, 3};
  float y[3];
  ThreadPool pool(1);
  net.blocks[0].proj.forward(x, 4, 1, y, false, pool);
  const Tensor& w = weights.at("blocks.0.proj.weight");
  for (int j = 0; j < 3; ++j) {
    float expected = weights.at("blocks.0.proj.bias").data<float>()[j];
    for (int k = 0; k < 4; ++k) expected += x[k] * w.data<float>()[j * 4 + k];
    EXPECT_NEAR(y[j], expected, 1e-5);
  }
}

// A checkpoint's mapped tensors are taken as they are, and prepare() keeps its own copy of what the
// forward pass reads: the loaded Linear computes the same after the source buffers are overwritten,
// at every level and stored dtype (float32 and float16 are copied, float16 on AVX-512 packed).
TEST(NnModule, LoadingSharesSourceBuffersAndPreparedLayersKeepTheirOwn) {
  const float x[4] = {1, -2, 0.5f, 3};
  ThreadPool pool(1);
  for (const DType dtype : {DType::Float32, DType::Float16}) {
    for (const CpuLevel level : testing::runnable_cpu_levels()) {
      std::map<std::string, Tensor> weights;
      for (auto& [name, t] : full_weights()) weights[name] = ops::cast_tensor(t, dtype, pool);
      Net net;
      net.prepare({.level = level});
      net.load_state_dict(map_source(weights));
      Tensor w = weights.at("blocks.0.proj.weight");  // shares the buffer
      EXPECT_EQ(net.parameter("blocks.0.proj.weight").raw(), w.raw());
      float before[3], after[3];
      net.blocks[0].proj.forward(x, 4, 1, before, false, pool);
      std::memset(w.raw(), 0, w.nbytes());
      net.blocks[0].proj.forward(x, 4, 1, after, false, pool);
      for (int j = 0; j < 3; ++j) EXPECT_EQ(after[j], before[j]) << dtype_name(dtype) << " at " << cpu_level_name(level);
    }
  }
}

// A source that describes its tensors (a mapped file) keeps them: loading reads none, prepare()
// reads each one once and holds none afterwards but the embedding table it looks rows up in, and
// the accessors read them again, converted when to() changed the dtype.
TEST(NnModule, DefersParametersToASourceThatDescribesThem) {
  const auto weights = full_weights();
  std::map<std::string, int> reads;
  StateSource source = map_source(weights);
  source.tensor = [&](const std::string& n) {
    ++reads[n];
    return weights.at(n);
  };
  source.describe = [&](const std::string& n) { return TensorDescription{weights.at(n).shape(), weights.at(n).dtype()}; };
  Net deferred;
  deferred.load_state_dict(source);
  for (const auto& [name, t] : weights) {
    EXPECT_EQ(reads[name], 1) << name;
    EXPECT_EQ(t.owner().use_count(), name == "embed.weight" ? 2 : 1) << name << " is held by more than the map";
  }
  Net held;
  held.load_state_dict(map_source(weights));
  const float x[4] = {1, -2, 0.5f, 3};
  float from_deferred[3], from_held[3];
  ThreadPool pool(1);
  deferred.blocks[1].proj.forward(x, 4, 1, from_deferred, false, pool);
  held.blocks[1].proj.forward(x, 4, 1, from_held, false, pool);
  for (int j = 0; j < 3; ++j) EXPECT_EQ(from_deferred[j], from_held[j]);
  float rows[8], held_rows[8];
  deferred.embed.forward({4, 0}, rows);
  held.embed.forward({4, 0}, held_rows);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(rows[i], held_rows[i]);

  EXPECT_EQ(deferred.parameter("blocks.0.norm.weight").raw(), weights.at("blocks.0.norm.weight").raw());
  EXPECT_EQ(reads["blocks.0.norm.weight"], 2);
  deferred.to(DType::BFloat16);
  for (const auto& [name, t] : deferred.named_parameters()) {
    EXPECT_EQ(t->dtype(), DType::BFloat16) << name;
    EXPECT_EQ(to_float(t->data<BFloat16>()[1]), to_float(to_bfloat16(weights.at(name).data<float>()[1]))) << name;
  }
}

TEST(NnModule, ADeferredTensorMustHaveTheShapeItsSourceDescribed) {
  auto weights = full_weights();
  StateSource source = map_source(weights);
  source.describe = [&](const std::string& n) {
    return TensorDescription{n == "blocks.1.proj.weight" ? Shape{3, 4} : weights.at(n).shape(), DType::Float32};
  };
  weights["blocks.1.proj.weight"] = Tensor::zeros(DType::Float32, {4, 3});
  Net net;
  EXPECT_EQ(error_of([&] { net.load_state_dict(source); }),
            "test weights: tensor 'blocks.1.proj.weight' was described with shape [3,4] but read with shape [4,3]");
}

class OneLinear : public Module {
 public:
  OneLinear() : proj(register_module("proj", std::make_unique<Linear>(64, 5, false))) {}
  Linear& proj;
};

TEST(NnModule, ProjectionsTakeTheCodesTheirSourceStores) {
  // Int4 codes that quantizing their own values again would not give back: no block holds code 0,
  // which ggml's quantizer gives every block's extreme (importance-weighted Q4_0 searches the scale).
  StoredCodes codes{.format = kernels::WeightFormat::Int4, .rows = 5, .cols = 64, .group = 32};
  std::mt19937 rng(3);
  for (int i = 0; i < 5 * 32; ++i) codes.codes.push_back(static_cast<uint8_t>((9 + rng() % 7) | (9 + rng() % 7) << 4));
  for (int i = 0; i < 10; ++i) codes.scales.push_back(to_float(to_float16(0.01f * static_cast<float>(1 + i % 3))));
  Tensor values = Tensor::zeros(DType::Float32, {5, 64});
  kernels::dequantize_rows_ref(codes.view(), 0, 5, values.data<float>(), 64);
  const std::map<std::string, Tensor> weights = {{"proj.weight", values}};
  StateSource source = map_source(weights);
  source.describe = [&](const std::string&) { return TensorDescription{{5, 64}, DType::Float32}; };
  source.codes = [&](const std::string&) { return std::optional<StoredCodes>(codes); };
  std::vector<float> x(64), expected(5), y(5);
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  for (float& v : x) v = uniform(rng);
  kernels::weight_gemv_ref(codes.view(), {.x = x.data(), .ldx = 64, .x_rows = 1, .y = expected.data(), .ldy = 5}, 0, 5);
  ThreadPool pool(1);
  const auto product = [&](const StateSource& from, CpuLevel level) {
    OneLinear net;
    net.prepare({.level = level, .quant = {WeightQuant::Int4, 32}});
    net.load_state_dict(from);
    net.proj.forward(x.data(), 64, 1, y.data(), false, pool);
    return y;
  };
  for (const CpuLevel level : testing::runnable_cpu_levels()) {
    const std::vector<float> from_codes = product(source, level);
    for (int j = 0; j < 5; ++j)
      EXPECT_NEAR(from_codes[j], expected[j], 1e-4 * (1 + std::abs(expected[j]))) << cpu_level_name(level) << " output " << j;
  }
  StateSource values_only = source;
  values_only.codes = nullptr;
  const std::vector<float> requantized = product(values_only, default_cpu_level());
  float largest_difference = 0;
  for (int j = 0; j < 5; ++j) largest_difference = std::max(largest_difference, std::abs(requantized[j] - expected[j]));
  EXPECT_GT(largest_difference, 1e-3f) << "quantizing the values again should have moved them";
  // Codes of another shape than the tensor's are refused, naming it.
  codes.rows = 4;
  OneLinear net;
  net.prepare({.level = default_cpu_level(), .quant = {WeightQuant::Int4, 32}});
  EXPECT_EQ(error_of([&] { net.load_state_dict(source); }),
            "test weights: tensor 'proj.weight' was described with shape [5,64] but its codes are 4x64");
}

TEST(NnModule, StrictLoadingListsMissingAndUnexpectedNames) {
  auto weights = full_weights();
  weights.erase("blocks.1.proj.bias");
  weights["blocks.1.proj.scale"] = Tensor::zeros(DType::Float32, {3});
  Net net;
  EXPECT_EQ(error_of([&] { net.load_state_dict(map_source(weights)); }),
            "test weights does not match the model: missing 1 (blocks.1.proj.bias); unexpected 1 (blocks.1.proj.scale)");
  Net lenient;
  weights["blocks.1.proj.bias"] = Tensor::zeros(DType::Float32, {3});
  lenient.load_state_dict(map_source(weights), false);
  EXPECT_TRUE(lenient.parameter("blocks.1.proj.bias").defined());
}

TEST(NnModule, RejectsWrongShapesAndNonFloatTensors) {
  auto weights = full_weights();
  weights["blocks.0.proj.weight"] = Tensor::zeros(DType::Float32, {4, 3});
  Net net;
  EXPECT_EQ(error_of([&] { net.load_state_dict(map_source(weights)); }),
            "test weights: tensor 'blocks.0.proj.weight' has shape [4,3], the model expects [3,4]");
  weights = full_weights();
  weights["embed.weight"] = Tensor::zeros(DType::Int64, {5, 4});
  EXPECT_EQ(error_of([&] { net.load_state_dict(map_source(weights)); }),
            "test weights: tensor 'embed.weight' is int64, the model expects floating point");
}

TEST(NnModule, ConvertsDtypesAndSavesWhatItHolds) {
  Net net;
  net.load_state_dict(map_source(full_weights()));
  net.to(DType::BFloat16);
  for (const auto& [name, t] : net.named_parameters()) EXPECT_EQ(t->dtype(), DType::BFloat16) << name;
  const std::string path = (std::filesystem::temp_directory_path() / "kiln_nn_module_test.safetensors").string();
  net.save(path);
  const SafetensorsFile file = SafetensorsFile::open(path);
  EXPECT_EQ(file.entries().size(), 7u);
  EXPECT_EQ(file.tensor("blocks.0.proj.weight").dtype(), DType::BFloat16);
  // Loading the saved file keeps each parameter's dtype: a float32 tree converts on the way in.
  Net reloaded;
  const Tensor saved = file.tensor("embed.weight");
  std::map<std::string, Tensor> from_file;
  for (const auto& e : file.entries()) from_file[e.name] = file.tensor(e.name);
  reloaded.load_state_dict(map_source(from_file));
  EXPECT_EQ(reloaded.parameter("embed.weight").dtype(), DType::BFloat16);
  EXPECT_EQ(to_float(reloaded.parameter("embed.weight").data<BFloat16>()[3]), to_float(saved.data<BFloat16>()[3]));
  EXPECT_NE(error_of([&] { net.to(DType::Int32); }).find("not int32"), std::string::npos);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace kiln::llm::nn
