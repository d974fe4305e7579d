// LLM engine files (src/llm/llm_engine.h): an engine built from a Hugging Face directory or a GGUF
// computes what its source computes with the same options, carries its tokenizer, chat template
// and generation config, loads without reading any parameter, and refuses other options.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "engine/engine_file.h"
#include "kjv_model.h"
#include "level_sweep.h"
#include "llm/chat_template.h"
#include "llm/generation_config.h"
#include "llm/llama_loader.h"
#include "llm/llm_engine.h"
#include "llm/model_files.h"
#include "llm/tokenizer.h"
#include "onnx_builder.h"
#include "tiny_llama.h"

namespace kiln::llm {
namespace {

using kiln::testing::expect_error;
using kiln::testing::kKjv;
using kiln::testing::TempDir;
using testing::prompt_logits;

struct QuantCase {
  nn::WeightQuant quant;
  const char* name;
};

class KjvEngine : public ::testing::TestWithParam<QuantCase> {};

TEST_P(KjvEngine, ComputesWhatItsDirectoryComputes) {
  const TempDir dir("llm_engine_kjv");
  const std::string engine = (dir.path() / "kjv.kiln").string();
  for (CpuLevel level : kiln::testing::runnable_cpu_levels()) {
    SCOPED_TRACE(cpu_level_name(level));
    const nn::PrepareOptions options{.level = level, .quant = GetParam().quant};
    build_llm_engine(kKjv, engine, options);
    EXPECT_TRUE(is_llm_engine(engine));
    const nn::PrepareOptions built = llm_engine_options(engine);
    EXPECT_EQ(built.level, level);
    EXPECT_EQ(built.quant.kind, GetParam().quant.kind);
    const auto from_dir = load_llama(kKjv, options);
    const auto from_engine = load_llama(engine, {.level = level});
    EXPECT_EQ(prompt_logits(*from_engine), prompt_logits(*from_dir));
    EXPECT_EQ(from_engine->parameter_count(), from_dir->parameter_count());
  }
}

INSTANTIATE_TEST_SUITE_P(Weights, KjvEngine,
                         ::testing::Values(QuantCase{{}, "float"}, QuantCase{{nn::WeightQuant::Int8, 0}, "int8"},
                                           QuantCase{{nn::WeightQuant::Int4, 32}, "int4"}),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(LlmEngine, CarriesTheTokenizerChatTemplateAndGenerationConfig) {
  const TempDir dir("llm_engine_files");
  // kjv with the chat fixture's tokenizer_config.json, which has a chat template.
  const std::filesystem::path model = dir.path() / "kjv_chat";
  std::filesystem::create_directories(model);
  for (const char* file : {"config.json", "generation_config.json", "model.safetensors", "tokenizer.json"})
    std::filesystem::copy_file(kKjv + "/" + file, model / file);
  std::filesystem::copy_file(std::string(KILN_SOURCE_DIR) + "/tests/llm_fixtures/kjv_chat/tokenizer_config.json",
                             model / "tokenizer_config.json");
  const std::string engine = (dir.path() / "kjv_chat.kiln").string();
  build_llm_engine(model.string(), engine, {.level = default_cpu_level()});
  std::filesystem::remove_all(model);  // the engine needs nothing of it

  const auto tokenizer = Tokenizer::load(engine);
  const auto expected = Tokenizer::load(kKjv);
  const std::string verse = "In the beginning God created the heaven and the earth.";
  EXPECT_EQ(tokenizer->encode(verse), expected->encode(verse));
  EXPECT_EQ(tokenizer->eos_id(), expected->eos_id());
  const ModelChatTemplate chat = load_chat_template(engine);
  const std::string rendered = chat.chat_template.render({ChatMessage{"user", "Genesis 1:1"}}, true, {});
  EXPECT_NE(rendered.find("Genesis 1:1"), std::string::npos) << rendered;
  const GenerationConfig config = load_generation_config(ModelFiles::open(engine));
  EXPECT_EQ(config.eos_token_ids, load_generation_config(ModelFiles::directory(kKjv)).eos_token_ids);
  EXPECT_NE(ModelFiles::open(engine).path("config.json").find("kjv_chat.kiln:config.json"), std::string::npos);
}

TEST(LlmEngine, KeepsAGgufsMetadataAndComputesWhatItComputes) {
  const TempDir dir("llm_engine_gguf");
  const LlamaConfig config = testing::tiny_config();
  GgufMetadata metadata = testing::metadata_of(config);
  metadata.add("tokenizer.chat_template", GgufValue::of_string("{{ messages[0]['content'] }}!"));
  const std::string gguf = (dir.path() / "tiny.gguf").string();
  save_gguf(gguf, metadata, testing::tiny_weights(config, GgmlType::Q4_0).gguf);
  const std::string engine = (dir.path() / "tiny.kiln").string();
  build_llm_engine(gguf, engine, {.level = default_cpu_level()});
  EXPECT_EQ(llm_engine_options(engine).quant.kind, nn::WeightQuant::Int4) << "a Q4_0 file computes as int4, as stored";
  const std::optional<GgufFile> kept = ModelFiles::open(engine).gguf();
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->metadata().entries(), GgufFile::open(gguf).metadata().entries());
  EXPECT_TRUE(kept->tensors().empty());
  EXPECT_EQ(load_chat_template(engine).chat_template.render({ChatMessage{"user", "hi"}}, false, {}), "hi!");
  const auto from_gguf = load_llama(gguf, {.level = default_cpu_level()});
  std::filesystem::remove(gguf);
  const auto from_engine = load_llama(engine, {.level = default_cpu_level()});
  EXPECT_EQ(prompt_logits(*from_engine), prompt_logits(*from_gguf));
}

TEST(LlmEngine, LoadsAsBuiltAndRefusesOtherOptions) {
  const TempDir dir("llm_engine_options");
  const std::string engine = (dir.path() / "kjv4.kiln").string();
  build_llm_engine(kKjv, engine, {.level = default_cpu_level(), .quant = {nn::WeightQuant::Int4, 32}});
  expect_error([&] { load_llama(engine, {.level = default_cpu_level(), .quant = {nn::WeightQuant::Int8, 0}}); },
               ErrorCode::InvalidArgument, {"was built for", "weights int4 in groups of 32", "not", "int8 per output channel",
                                            "kiln build"});
  if (default_cpu_level() != CpuLevel::Scalar)
    expect_error([&] { load_llama(engine, {.level = CpuLevel::Scalar}); }, ErrorCode::InvalidArgument,
                 {"was built for " + std::string(cpu_level_name(default_cpu_level())), "not scalar"});
  // Parameters are only in their prepared form: preparing them another way says to rebuild.
  const auto model = load_llama(engine, {.level = default_cpu_level()});
  expect_error([&] { model->to(nn::WeightQuant{nn::WeightQuant::Int8, 0}); }, ErrorCode::InvalidArgument,
               {"only in its prepared form", "rebuild the engine"});
}

TEST(LlmEngine, OnnxAndLlmEnginesAreNotTakenForEachOther) {
  const TempDir dir("llm_engine_kinds");
  const std::string onnx_engine = (dir.path() / "add.kiln").string();
  kiln::testing::make_session(kiln::testing::make_add_model(), {.optimized_model_path = onnx_engine});
  EXPECT_FALSE(is_llm_engine(onnx_engine));
  expect_error([&] { load_llama(onnx_engine, {.level = default_cpu_level()}); }, ErrorCode::InvalidArgument,
               {"engine of an ONNX model"});
  const std::string llm_engine = (dir.path() / "kjv.kiln").string();
  build_llm_engine(kKjv, llm_engine, {.level = default_cpu_level()});
  expect_error([&] { Session session(llm_engine); }, ErrorCode::InvalidModel, {"holds no ONNX model"});
}

TEST(LlmEngine, DamagedEnginesAreRefused) {
  const TempDir dir("llm_engine_damaged");
  const std::string engine = (dir.path() / "kjv.kiln").string();
  build_llm_engine(kKjv, engine, {.level = default_cpu_level(), .quant = {nn::WeightQuant::Int8, 0}});
  std::string bytes;
  {
    std::ifstream in(engine, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (size_t at : {size_t{20}, size_t{200}, bytes.size() / 2, bytes.size() - 100}) {
    std::string damaged = bytes;
    damaged[at] ^= 0x10;
    {
      std::ofstream out(engine, std::ios::binary | std::ios::trunc);
      out.write(damaged.data(), static_cast<std::streamsize>(damaged.size()));
    }
    try {
      load_llama(engine, {.level = default_cpu_level()});
      // A flip in padding changes nothing that is read.
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("kiln build"), std::string::npos) << "byte " << at << ": " << e.what();
    }
  }
  {
    std::ofstream out(engine, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 3));
  }
  expect_error([&] { load_llama(engine, {.level = default_cpu_level()}); }, ErrorCode::InvalidModel,
               {"truncated", "kiln build"});
}

}  // namespace
}  // namespace kiln::llm
