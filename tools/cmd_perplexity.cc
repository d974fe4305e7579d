// `kiln perplexity MODEL FILE`: perplexity of a text file, each non-empty line scored alone as
// [BOS] + its tokens (llm/perplexity.h), as models/kjv/eval_perplexity.py scores it.
#include <cstdio>

#include "bench_stats.h"
#include "commands.h"
#include "core/read_file.h"
#include "kiln/llm.h"
#include "llm_model_flags.h"
#include "progress_bar.h"

namespace kiln::cli {
namespace {

struct PerplexityArgs {
  std::string model, file;
  int64_t batch_tokens = 1024;
  llm::LoadOptions load;
};

void perplexity(const PerplexityArgs& args) {
  const std::string text = read_file(args.file);
  llm::LLM llm(args.model, args.load, terminal_progress_bar());
  const auto start = Clock::now();
  const llm::PerplexityResult r = llm.perplexity(text, args.batch_tokens);
  const double seconds = ms_since(start) / 1000.0;
  std::printf("lines: %lld, tokens: %lld, nll: %.4f, perplexity: %.4f\n", static_cast<long long>(r.lines),
              static_cast<long long>(r.tokens), r.nll, r.perplexity());
  std::fflush(stdout);
  std::fprintf(stderr, "scored in %.2f s, %.0f tokens/s (weights %s)\n", seconds,
               static_cast<double>(r.tokens + r.lines) / seconds, llm.weights().c_str());
}

}  // namespace

void add_perplexity_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("perplexity", "Perplexity of a text file under an LLM, each line scored alone");
  auto args = std::make_shared<PerplexityArgs>();
  cmd->add_option("model", args->model, "Hugging Face model directory or GGUF file")->required()->check(CLI::ExistingPath);
  cmd->add_option("file", args->file, "text file, one sequence per line")->required()->check(CLI::ExistingFile);
  cmd->add_option("-t,--threads", args->load.threads, "threads")->capture_default_str()->check(CLI::Range(1, 1024));
  cmd->add_option("--batch-tokens", args->batch_tokens, "tokens per forward pass (lines are batched; speed only)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  add_llm_weight_flags(*cmd, args->load);
  cmd->callback([args] { perplexity(*args); });
}

}  // namespace kiln::cli
