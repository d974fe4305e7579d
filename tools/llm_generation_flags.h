// What `kiln generate` and `kiln chat` share: the model, thread, context and sampling options,
// everything a generation runs on once loaded, and the one-line speed summary printed after it.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "llm/generation_config.h"
#include "llm/generator.h"
#include "llm/tokenizer.h"
#include "llm_model_flags.h"

namespace kiln::cli {

struct LlmGenerationFlags {
  std::string model;  // empty: the shipped model
  int threads = 1;
  int64_t context = 0;  // 0: max_position_embeddings, at most 4096
  std::string kv_cache = "f32";
  LlmWeightFlags weights;
  llm::SamplingOverrides sampling;
  std::vector<std::string> stop;
  std::optional<int64_t> max_tokens;
};

void add_llm_generation_flags(CLI::App& cmd, LlmGenerationFlags& flags);

// A loaded model with its tokenizer, generation_config.json and a generator over its context.
struct LlmGenerationSession {
  std::string model_dir;
  std::unique_ptr<llm::LlamaForCausalLM> model;
  std::unique_ptr<llm::Tokenizer> tokenizer;
  llm::GenerationConfig config;
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<llm::Generator> generator;
  llm::GenerationOptions options;  // max_new_tokens as the flags set it; for_prompt applies the config's

  static LlmGenerationSession open(const LlmGenerationFlags& flags);
  // `options` with the config's new-token limit for a prompt of `tokens` when the flags set none.
  llm::GenerationOptions for_prompt(int64_t tokens) const;
};

// "prompt: N tokens, X t/s | generated: M tokens, Y t/s | stop: reason" on stderr.
void print_generation_summary(const llm::GenerationStats& stats);

}  // namespace kiln::cli
