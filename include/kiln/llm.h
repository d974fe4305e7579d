// The public C++ API of Kiln's LLM runtime: a Llama-family model with its tokenizer,
// generation_config.json and chat template, ready to generate, chat and score text.
//
//   kiln::llm::LLM llm("models/kjv", {.threads = 2});
//   kiln::llm::GenerateOptions request;
//   request.sampling.temperature = 0;
//   request.max_tokens = 30;
//   kiln::llm::Completion c = llm.generate(llm.encode("Genesis 1:1"), request);
//
// An LLM holds one sequence's KV cache: a prompt that extends the previous prompt and its
// completion (a chat's next turn) is prefilled from where the cache ends. Calls that run the model
// take turns (one mutex), so an LLM may be shared between threads; the tokenizer calls run at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/llm_types.h"

namespace kiln::llm {

struct LoadOptions {
  // "none": the weights as stored (a GGUF's Q8_0/Q4_0 and an engine's compute as they are);
  // "int8" or "int4": quantized at load (an engine must have been built so).
  std::string quant = "none";
  int64_t group = 0;      // inputs per scale, a multiple of 32; 0: int8 per output channel, int4 in groups of 32
  std::string cpu_level;  // "scalar", "avx2", "avx512"; empty: an engine's own, else the best this CPU has
  int threads = 1;        // threads the forward pass uses, the calling thread included; 0: one per core
  int64_t context = 0;    // positions the KV cache holds; 0: max_position_embeddings, at most 4096
  std::string kv_cache = "f32";  // KV cache storage: "f32", "f16" or "int8"
  // Records a Chrome trace (kiln/session.h's format): loading, and every generation step
  // ("prefill", "decode") with the embedding, each layer's attention and MLP, and the head;
  // LLM::end_profiling writes it.
  bool enable_profiling = false;
};

// One request. Sampling fields left unset take generation_config.json's values, else Kiln's
// defaults (SamplingParams{}).
struct GenerateOptions {
  SamplingOverrides sampling;
  // Most tokens to sample; none: generation_config.json's limit, else until the context is full.
  std::optional<int64_t> max_tokens;
  std::vector<std::string> stop;          // stop strings; the text ends before the first to appear
  std::vector<int32_t> stop_token_ids;    // end generation as EOS does, besides the model's EOS ids
  bool ignore_eos = false;                // the model's EOS ids do not end generation
  bool skip_special_tokens = true;        // special tokens add no text
};

struct Completion {
  std::vector<int32_t> prompt_token_ids;
  std::string text;              // the generated text, without the prompt or a stop string
  GenerationStats stats;         // the generated ids, why generation ended, timings
};

// Receives each piece of text as it settles; returning false ends the generation before the next
// token (StopReason::Cancelled).
using TextCallback = std::function<bool(std::string_view text)>;
// How far loading has come: `done` of `total` units of `stage` ("loading", "preparing").
using LoadProgress = std::function<void(std::string_view stage, int64_t done, int64_t total)>;

class LLM {
 public:
  // `model`: a Hugging Face directory, a GGUF file or a Kiln engine file. Errors name the file and
  // the tensor or option that is wrong (Error(InvalidArgument) for an option out of its range).
  explicit LLM(const std::string& model, const LoadOptions& options = {}, const LoadProgress& progress = {});
  ~LLM();
  LLM(LLM&&) noexcept;
  LLM& operator=(LLM&&) noexcept;

  const std::string& model_path() const;
  int64_t context() const;  // the positions a prompt and its completion may fill
  // How the linear layers compute: "none" (as stored), "int8" or "int4"; an engine's or a GGUF's
  // stored format when the options left it at "none".
  std::string weights() const;

  // The tokenizer (src/llm/tokenizer.h documents each).
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = true) const;
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;
  int32_t vocab_size() const;
  std::optional<int32_t> bos_id() const;
  std::optional<int32_t> eos_id() const;
  std::optional<int32_t> token_to_id(std::string_view token) const;
  std::string id_to_token(int32_t id) const;

  // What a request that sets nothing samples with: generation_config.json's settings over Kiln's.
  SamplingParams default_sampling() const;
  // generation_config.json's new-token limit for a prompt of `prompt_tokens`, if it has one.
  std::optional<int64_t> default_max_tokens(int64_t prompt_tokens) const;

  // Generates after `prompt`. Error(InvalidArgument) naming the field for an option out of range,
  // an empty prompt or one longer than the context.
  Completion generate(std::span<const int32_t> prompt, const GenerateOptions& options,
                      const TextCallback& on_text = {});

  // The conversation through the model's chat template (tokenizer_config.json, chat_template.jinja
  // or the GGUF's); Error(InvalidModel) naming the file when the model has none.
  std::string apply_chat_template(const std::vector<ChatMessage>& messages, bool add_generation_prompt = true) const;
  // generate() on apply_chat_template(messages) encoded without special tokens (the template
  // writes them).
  Completion chat(const std::vector<ChatMessage>& messages, const GenerateOptions& options,
                  const TextCallback& on_text = {});

  // Perplexity of `text`, each non-empty line scored alone as [BOS] + its tokens
  // (src/llm/perplexity.h); `batch_tokens` changes only speed.
  PerplexityResult perplexity(std::string_view text, int64_t batch_tokens = 1024);

  // Stops profiling and writes the trace to `path`; returns false when profiling was off or ended.
  // Generations after it are not recorded, and the next one starts from an empty KV cache (a
  // chat's earlier turns are prefilled again).
  bool end_profiling(const std::string& path);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace kiln::llm
