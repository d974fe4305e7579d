// The plain data of Kiln's LLM runtime that its public API (kiln/llm.h) and its internals share:
// sampling parameters, the reasons a generation ends and what it measured, chat messages and
// perplexity. src/llm/sampler.h, generation_config.h, generator.h, chat_template.h and
// perplexity.h document how each is used.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kiln::llm {

// The sampler chain's settings (src/llm/sampler.h).
struct SamplingParams {
  float temperature = 1.0f;         // >= 0; 0 picks the argmax
  int32_t top_k = 0;                // >= 0; 0 keeps every token
  float top_p = 1.0f;               // in (0, 1]; 1 keeps every token
  float min_p = 0.0f;               // in [0, 1]: keeps tokens with probability >= min_p * the top one's
  float repetition_penalty = 1.0f;  // > 0; 1 is off
  float presence_penalty = 0.0f;    // finite; 0 is off
  float frequency_penalty = 0.0f;   // finite; 0 is off
  int32_t penalty_last_n = 64;      // history tokens the penalties look at; -1: all of them, 0: none
  uint64_t seed = 0;

  bool greedy() const { return temperature == 0.0f; }
  // Error(InvalidArgument) naming the first field out of its range.
  void validate() const;
};

// Sampling fields one layer may set; unset ones come from the layer below (a request over
// generation_config.json over Kiln's defaults: src/llm/generation_config.h).
struct SamplingOverrides {
  std::optional<float> temperature;
  std::optional<int32_t> top_k;
  std::optional<float> top_p;
  std::optional<float> min_p;
  std::optional<float> repetition_penalty;
  std::optional<float> presence_penalty;
  std::optional<float> frequency_penalty;
  std::optional<int32_t> penalty_last_n;
  std::optional<uint64_t> seed;

  // `below` with the fields set here replaced.
  SamplingParams over(SamplingParams below) const;
};

enum class StopReason {
  Eos,          // an end-of-sequence token was sampled
  StopString,   // a stop string ended in the text
  MaxTokens,    // max_new_tokens were sampled
  ContextFull,  // the sequence filled the context
  Cancelled,    // the caller asked the generation to stop (GenerationOptions::cancel)
};
const char* stop_reason_name(StopReason reason);

struct GenerationStats {
  int64_t prompt_tokens = 0;
  int64_t prefilled_tokens = 0;  // of the prompt, those the forward pass ran: the rest were cached
  int64_t generated_tokens = 0;  // sampled, the one that ended generation (EOS, stop) included
  std::vector<int32_t> token_ids;  // those generated_tokens, in order
  double prefill_seconds = 0.0;
  double decode_seconds = 0.0;  // from the first sampled token to the end
  StopReason stop_reason = StopReason::MaxTokens;
};

struct ChatMessage {
  std::string role;  // "system", "user", "assistant", ...
  std::string content;
};

struct PerplexityResult {
  double nll = 0.0;  // summed over the predicted tokens
  int64_t tokens = 0;
  int64_t lines = 0;
  double perplexity() const { return std::exp(nll / static_cast<double>(tokens)); }
};

}  // namespace kiln::llm
