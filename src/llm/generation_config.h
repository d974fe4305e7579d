// generation_config.json as Hugging Face writes it beside a checkpoint: the tokens that end or pad
// a generation and the model's preferred sampling settings. Every field may be absent, and a
// checkpoint may have no such file at all.
//
// Sampling parameters combine in three layers: what a request sets explicitly, over what
// generation_config.json sets, over Kiln's defaults (SamplingParams{}: temperature 1 and every
// filter off). do_sample: false in the file means greedy (temperature 0) unless the request sets a
// temperature; an absent do_sample leaves the file's values as they are. Transformers reads an
// absent do_sample as false, but the Hub's configs that set temperature or top_p also set
// do_sample: true, and taking their values is what a runtime serving them wants.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "llm/sampler.h"

namespace kiln::llm {

class ModelFiles;

struct GenerationConfig {
  std::vector<int32_t> eos_token_ids;  // eos_token_id, an id or a list: generation ends at any
  std::optional<int32_t> bos_token_id;
  std::optional<int32_t> pad_token_id;
  std::optional<bool> do_sample;
  // temperature, top_k, top_p, min_p and repetition_penalty: the fields the file has.
  SamplingOverrides sampling;
  std::optional<int64_t> max_new_tokens;
  std::optional<int64_t> max_length;  // prompt and new tokens together

  // The most new tokens for a prompt of `prompt_tokens`: max_new_tokens when given (Transformers
  // lets it win over max_length), else what max_length leaves, else no limit.
  std::optional<int64_t> new_token_limit(int64_t prompt_tokens) const;
};

// Parses the file's text; `source` names it in errors. Error(InvalidModel) naming the file and
// the field for malformed JSON, a field of the wrong type, a token id outside [0, 2^31), a
// non-positive length, or a sampling value SamplingParams rejects. Unknown fields are ignored.
GenerationConfig parse_generation_config(const std::string& json_text, const std::string& source);
// A file that does not exist is a config with every field absent; Error(Io) when it exists but
// cannot be read.
GenerationConfig load_generation_config(const std::string& path);
// The model's generation_config.json (model_files.h); defaults when it has none (a GGUF has none:
// its sampling defaults are Kiln's).
GenerationConfig load_generation_config(const ModelFiles& files);

// The three layers combined (see the top of this file): what the request sets explicitly over the
// config over Kiln's defaults, validated: Error(InvalidArgument) naming the field when the
// request's value is out of range.
SamplingParams resolve_sampling(const SamplingOverrides& request, const GenerationConfig& config);

}  // namespace kiln::llm
