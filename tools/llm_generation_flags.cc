#include "llm_generation_flags.h"

#include <cstdio>

#include "llm_model_flags.h"
#include "profile_flag.h"
#include "progress_bar.h"

namespace kiln::cli {
namespace {

template <class T>
void add_sampling_option(CLI::App& cmd, const std::string& name, std::optional<T>& field, const std::string& help) {
  cmd.add_option_function<T>(name, [&field](const T& value) { field = value; }, help);
}

// What a shell passes as `--stop '\n'` is a backslash and an n: \n, \r, \t and \\ are unescaped
// (any other backslash stays), so that a line break can be a stop string.
std::string unescaped(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    const char next = i + 1 < text.size() ? text[i + 1] : '\0';
    const char meaning = text[i] != '\\' ? '\0'
                         : next == 'n'   ? '\n'
                         : next == 'r'   ? '\r'
                         : next == 't'   ? '\t'
                         : next == '\\'  ? '\\'
                                         : '\0';
    out += meaning ? meaning : text[i];
    if (meaning) ++i;
  }
  return out;
}

double per_second(int64_t tokens, double seconds) { return seconds > 0.0 ? static_cast<double>(tokens) / seconds : 0.0; }

}  // namespace

void add_llm_generation_flags(CLI::App& cmd, LlmGenerationFlags& flags) {
  cmd.add_option("model", flags.model,
                 "Hugging Face model directory, GGUF file or LLM engine (.kiln; default: the shipped models/kjv)")
      ->check(CLI::ExistingPath);
  cmd.add_option_function<int64_t>("-n,--max-tokens", [&flags](const int64_t& n) { flags.request.max_tokens = n; },
                                   "most tokens to generate (default: generation_config.json's limit, else the context)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  cmd.add_option("-t,--threads", flags.load.threads, "threads")->capture_default_str()->check(CLI::Range(1, 1024));
  cmd.add_option("-c,--ctx-size", flags.load.context, "positions the KV cache holds (0: the model's, at most 4096)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 24));
  cmd.add_option("--kv-cache", flags.load.kv_cache, "KV cache storage: f32, f16 (half), int8 (one scale per row)")
      ->capture_default_str()
      ->check(CLI::IsMember({"f32", "f16", "int8"}));
  add_sampling_option(cmd, "--temperature", flags.request.sampling.temperature, "0: greedy (the argmax)");
  add_sampling_option(cmd, "--top-k", flags.request.sampling.top_k, "keep the k most likely tokens (0: off)");
  add_sampling_option(cmd, "--top-p", flags.request.sampling.top_p, "keep the most likely tokens up to this mass (1: off)");
  add_sampling_option(cmd, "--min-p", flags.request.sampling.min_p, "keep tokens at least this times the top one's probability (0: off)");
  add_sampling_option(cmd, "--repeat-penalty", flags.request.sampling.repetition_penalty, "divide recent tokens' logits (1: off)");
  add_sampling_option(cmd, "--presence-penalty", flags.request.sampling.presence_penalty, "subtract from recent tokens' logits (0: off)");
  add_sampling_option(cmd, "--frequency-penalty", flags.request.sampling.frequency_penalty,
                      "subtract this times each recent token's count (0: off)");
  add_sampling_option(cmd, "--repeat-last-n", flags.request.sampling.penalty_last_n,
                      "history tokens the penalties look at (-1: all; default 64)");
  add_sampling_option(cmd, "--seed", flags.request.sampling.seed, "random seed (default 0)");
  cmd.add_option_function<std::vector<std::string>>(
         "--stop",
         [&flags](const std::vector<std::string>& stops) {
           for (const std::string& stop : stops) flags.request.stop.push_back(unescaped(stop));
         },
         "stop where this text appears; it is not printed (repeatable; \\n, \\r, \\t and \\\\ are unescaped)")
      ->allow_extra_args(false);
  add_llm_weight_flags(cmd, flags.load);
  add_profile_flag(cmd, flags.profile);
  cmd.footer("Sampling options left unset take generation_config.json's values, else Kiln's defaults "
             "(temperature 1, every filter and penalty off). The chain: penalties, then top-k, temperature, "
             "min-p, top-p (docs/llm.md).");
}

llm::LLM open_llm(const LlmGenerationFlags& flags) {
  llm::LoadOptions load = flags.load;
  load.enable_profiling = !flags.profile.empty();
  return llm::LLM(resolve_model_dir(flags.model), load, terminal_progress_bar());
}

void print_generation_summary(const llm::GenerationStats& stats) {
  const int64_t cached = stats.prompt_tokens - stats.prefilled_tokens;
  std::fprintf(stderr, "prompt: %lld tokens%s, %.1f t/s | generated: %lld tokens, %.1f t/s | stop: %s\n",
               static_cast<long long>(stats.prompt_tokens),
               cached ? (" (" + std::to_string(cached) + " cached)").c_str() : "",
               per_second(stats.prefilled_tokens, stats.prefill_seconds),
               static_cast<long long>(stats.generated_tokens), per_second(stats.generated_tokens, stats.decode_seconds),
               llm::stop_reason_name(stats.stop_reason));
}

}  // namespace kiln::cli
