// generation_config.json as the Hub ships it (Llama-3.1-8B-Instruct, Qwen2.5-7B-Instruct,
// TinyLlama-1.1B-Chat), the errors for ill-typed fields, and how a request, the file and Kiln's
// defaults combine into SamplingParams.
#include "llm/generation_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "kiln/error.h"

namespace kiln::llm {
namespace {

const char* kLlama31Instruct = R"({
  "bos_token_id": 128000, "do_sample": true, "eos_token_id": [128001, 128008, 128009],
  "temperature": 0.6, "top_p": 0.9, "transformers_version": "4.42.3"})";

std::string error_of(const std::string& json_text) {
  try {
    parse_generation_config(json_text, "generation_config.json");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidModel) << e.what();
    return e.what();
  }
  return "no error";
}

TEST(GenerationConfig, Llama31InstructHasAnEosSetAndSamplingDefaults) {
  const GenerationConfig c = parse_generation_config(kLlama31Instruct, "generation_config.json");
  EXPECT_EQ(c.eos_token_ids, (std::vector<int32_t>{128001, 128008, 128009}));
  EXPECT_EQ(c.bos_token_id, 128000);
  EXPECT_FALSE(c.pad_token_id);
  EXPECT_EQ(c.do_sample, true);
  EXPECT_FLOAT_EQ(c.sampling.temperature.value(), 0.6f);
  EXPECT_FLOAT_EQ(c.sampling.top_p.value(), 0.9f);
  EXPECT_FALSE(c.sampling.top_k);
  EXPECT_FALSE(c.new_token_limit(10));

  const SamplingParams p = resolve_sampling({}, c);
  EXPECT_FLOAT_EQ(p.temperature, 0.6f);
  EXPECT_FLOAT_EQ(p.top_p, 0.9f);
  EXPECT_EQ(p.top_k, SamplingParams{}.top_k);  // absent from the file: Kiln's default
  EXPECT_FLOAT_EQ(p.repetition_penalty, 1.0f);
}

TEST(GenerationConfig, Qwen25InstructSetsEveryFilterAndAPenalty) {
  const GenerationConfig c = parse_generation_config(R"({
    "bos_token_id": 151643, "pad_token_id": 151643, "do_sample": true, "eos_token_id": [151645, 151643],
    "repetition_penalty": 1.05, "temperature": 0.7, "top_p": 0.8, "top_k": 20, "min_p": 0.0})",
                                                     "generation_config.json");
  EXPECT_EQ(c.pad_token_id, 151643);
  const SamplingParams p = resolve_sampling({}, c);
  EXPECT_EQ(p.top_k, 20);
  EXPECT_FLOAT_EQ(p.top_p, 0.8f);
  EXPECT_FLOAT_EQ(p.min_p, 0.0f);
  EXPECT_FLOAT_EQ(p.repetition_penalty, 1.05f);
  EXPECT_FLOAT_EQ(p.temperature, 0.7f);
}

TEST(GenerationConfig, TinyLlamaHasOneEosIdAndAMaxLength) {
  const GenerationConfig c = parse_generation_config(
      R"({"bos_token_id": 1, "eos_token_id": 2, "max_length": 2048, "pad_token_id": 0})", "generation_config.json");
  EXPECT_EQ(c.eos_token_ids, std::vector<int32_t>{2});
  EXPECT_EQ(c.pad_token_id, 0);
  EXPECT_FALSE(c.do_sample);
  EXPECT_EQ(c.new_token_limit(48), 2000);
  EXPECT_EQ(c.new_token_limit(3000), 0);
  GenerationConfig both = c;
  both.max_new_tokens = 256;
  EXPECT_EQ(both.new_token_limit(48), 256);
  EXPECT_EQ(resolve_sampling({}, c).temperature, SamplingParams{}.temperature);  // no do_sample: not greedy
}

TEST(GenerationConfig, DoSampleFalseIsGreedyUnlessTheRequestSetsATemperature) {
  const GenerationConfig c =
      parse_generation_config(R"({"do_sample": false, "temperature": 0.6, "top_p": 0.9})", "generation_config.json");
  EXPECT_TRUE(resolve_sampling({}, c).greedy());
  SamplingOverrides request;
  request.top_p = 0.5f;
  EXPECT_TRUE(resolve_sampling(request, c).greedy());
  request.temperature = 0.8f;
  const SamplingParams p = resolve_sampling(request, c);
  EXPECT_FLOAT_EQ(p.temperature, 0.8f);
  EXPECT_FLOAT_EQ(p.top_p, 0.5f);
}

TEST(GenerationConfig, TheRequestOverridesTheFileWhichOverridesKilnsDefaults) {
  const GenerationConfig c = parse_generation_config(kLlama31Instruct, "generation_config.json");
  SamplingOverrides request;
  request.top_p = 0.5f;
  request.top_k = 7;
  request.presence_penalty = 0.25f;
  request.seed = 1234;
  const SamplingParams p = resolve_sampling(request, c);
  EXPECT_FLOAT_EQ(p.top_p, 0.5f);         // request over file
  EXPECT_FLOAT_EQ(p.temperature, 0.6f);   // file over default
  EXPECT_EQ(p.top_k, 7);                  // request over default
  EXPECT_FLOAT_EQ(p.presence_penalty, 0.25f);
  EXPECT_EQ(p.seed, 1234u);
  EXPECT_EQ(p.penalty_last_n, SamplingParams{}.penalty_last_n);

  SamplingOverrides bad;
  bad.top_p = 2.0f;
  try {
    resolve_sampling(bad, c);
    ADD_FAILURE() << "top_p 2 was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("top_p"), std::string::npos) << e.what();
  }
}

TEST(GenerationConfig, AMissingFileGivesTheDefaultsAndAPresentOneIsRead) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "kiln_generation_config_test";
  fs::create_directories(dir);
  const GenerationConfig none = load_generation_config((dir / "absent.json").string());
  EXPECT_TRUE(none.eos_token_ids.empty());
  EXPECT_FALSE(none.do_sample || none.sampling.temperature || none.sampling.top_p || none.max_length);
  const SamplingParams defaults = resolve_sampling({}, none), kiln;
  EXPECT_EQ(defaults.temperature, kiln.temperature);
  EXPECT_EQ(defaults.top_k, kiln.top_k);
  EXPECT_EQ(defaults.top_p, kiln.top_p);
  EXPECT_EQ(defaults.min_p, kiln.min_p);

  const fs::path path = dir / "generation_config.json";
  std::ofstream(path) << kLlama31Instruct;
  EXPECT_EQ(load_generation_config(path.string()).eos_token_ids.size(), 3u);
  std::ofstream(path) << R"({"top_k": "50"})";
  try {
    load_generation_config(path.string());
    ADD_FAILURE() << "a string top_k was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path.string() + ": top_k"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(GenerationConfig, IllTypedFieldsAreErrorsNamingTheFileAndField) {
  EXPECT_NE(error_of("{").find("generation_config.json: not JSON"), std::string::npos);
  EXPECT_NE(error_of("[1]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(error_of(R"({"eos_token_id": "2"})").find("generation_config.json: eos_token_id must be an integer"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"eos_token_id": [2, "3"]})").find("eos_token_id must be an integer"), std::string::npos);
  EXPECT_NE(error_of(R"({"eos_token_id": [2, -1]})").find("eos_token_id -1 is not a token id"), std::string::npos);
  EXPECT_NE(error_of(R"({"bos_token_id": 1.5})").find("bos_token_id must be an integer"), std::string::npos);
  EXPECT_NE(error_of(R"({"pad_token_id": 4294967296})").find("pad_token_id 4294967296 is not a token id"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"do_sample": "true"})").find("do_sample must be true or false"), std::string::npos);
  EXPECT_NE(error_of(R"({"temperature": "0.7"})").find("temperature must be a number"), std::string::npos);
  EXPECT_NE(error_of(R"({"top_k": 1.5})").find("top_k must be an integer"), std::string::npos);
  EXPECT_NE(error_of(R"({"top_k": -1})").find("top_k must be in [0, 2^31)"), std::string::npos);
  EXPECT_NE(error_of(R"({"max_new_tokens": 0})").find("max_new_tokens must be positive"), std::string::npos);
  EXPECT_NE(error_of(R"({"max_length": true})").find("max_length must be an integer"), std::string::npos);
  // Out of range for sampling: checked even where do_sample: false would ignore it.
  EXPECT_NE(error_of(R"({"do_sample": false, "top_p": 1.5})").find("generation_config.json: sampling parameter top_p"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"do_sample": false, "temperature": -1})").find("sampling parameter temperature"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"repetition_penalty": 0})").find("repetition_penalty"), std::string::npos);
  EXPECT_NE(error_of(R"({"min_p": 2})").find("min_p"), std::string::npos);
  // null is absent, as Transformers writes unset fields.
  EXPECT_FALSE(parse_generation_config(R"({"pad_token_id": null})", "generation_config.json").pad_token_id);
}

}  // namespace
}  // namespace kiln::llm
