#include "llm/generation_config.h"

#include <algorithm>
#include <filesystem>
#include <limits>

#include "core/read_file.h"
#include "kiln/error.h"
#include "llm/json_fields.h"
#include "llm/model_files.h"

namespace kiln::llm {
namespace {

std::optional<int32_t> token_id(const JsonFields& fields, const std::string& field, std::optional<int64_t> id) {
  if (id && (*id < 0 || *id > std::numeric_limits<int32_t>::max()))
    fields.fail(field, std::to_string(*id) + " is not a token id");
  return id ? std::optional<int32_t>(static_cast<int32_t>(*id)) : std::nullopt;
}

std::optional<int64_t> length(const JsonFields& fields, const std::string& field) {
  return fields.integer(field) ? std::optional<int64_t>(fields.positive(field)) : std::nullopt;
}

std::optional<float> single(std::optional<double> value) {
  return value ? std::optional<float>(static_cast<float>(*value)) : std::nullopt;
}

}  // namespace

SamplingParams SamplingOverrides::over(SamplingParams below) const {
  below.temperature = temperature.value_or(below.temperature);
  below.top_k = top_k.value_or(below.top_k);
  below.top_p = top_p.value_or(below.top_p);
  below.min_p = min_p.value_or(below.min_p);
  below.repetition_penalty = repetition_penalty.value_or(below.repetition_penalty);
  below.presence_penalty = presence_penalty.value_or(below.presence_penalty);
  below.frequency_penalty = frequency_penalty.value_or(below.frequency_penalty);
  below.penalty_last_n = penalty_last_n.value_or(below.penalty_last_n);
  below.seed = seed.value_or(below.seed);
  return below;
}

std::optional<int64_t> GenerationConfig::new_token_limit(int64_t prompt_tokens) const {
  if (max_new_tokens) return max_new_tokens;
  if (max_length) return std::max<int64_t>(0, *max_length - prompt_tokens);
  return std::nullopt;
}

GenerationConfig parse_generation_config(const std::string& json_text, const std::string& source) {
  const nlohmann::json root = parse_json_object(json_text, source);
  const JsonFields f(root, source);
  GenerationConfig c;
  for (int64_t id : f.integers("eos_token_id")) c.eos_token_ids.push_back(*token_id(f, "eos_token_id", id));
  c.bos_token_id = token_id(f, "bos_token_id", f.integer("bos_token_id"));
  c.pad_token_id = token_id(f, "pad_token_id", f.integer("pad_token_id"));
  c.do_sample = f.boolean("do_sample");
  c.sampling.temperature = single(f.number("temperature"));
  if (const std::optional<int64_t> k = f.integer("top_k")) {
    if (*k < 0 || *k > std::numeric_limits<int32_t>::max())
      f.fail("top_k", "must be in [0, 2^31), got " + std::to_string(*k));
    c.sampling.top_k = static_cast<int32_t>(*k);
  }
  c.sampling.top_p = single(f.number("top_p"));
  c.sampling.min_p = single(f.number("min_p"));
  c.sampling.repetition_penalty = single(f.number("repetition_penalty"));
  c.max_new_tokens = length(f, "max_new_tokens");
  c.max_length = length(f, "max_length");
  try {
    c.sampling.over(SamplingParams{}).validate();
  } catch (const Error& e) {
    throw Error(ErrorCode::InvalidModel, source + ": " + e.what());
  }
  return c;
}

GenerationConfig load_generation_config(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error) && !error) return {};  // an error is read_file's to report
  return parse_generation_config(read_file(path), path);
}

GenerationConfig load_generation_config(const ModelFiles& files) {
  const std::optional<std::string> text = files.read("generation_config.json");
  return text ? parse_generation_config(*text, files.path("generation_config.json")) : GenerationConfig{};
}

SamplingParams resolve_sampling(const SamplingOverrides& request, const GenerationConfig& config) {
  SamplingParams from_config = config.sampling.over(SamplingParams{});
  if (config.do_sample == false) from_config.temperature = 0.0f;
  const SamplingParams p = request.over(from_config);
  p.validate();
  return p;
}

}  // namespace kiln::llm
