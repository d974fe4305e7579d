// `kiln generate [MODEL] --prompt TEXT`: continues a prompt, printing each piece of text to stdout
// as it is generated, then a one-line speed summary to stderr.
#include <iostream>

#include "commands.h"
#include "llm_generation_flags.h"

namespace kiln::cli {
namespace {

struct GenerateArgs {
  LlmGenerationFlags flags;
  std::string prompt;
  bool no_bos = false;
};

void generate(const GenerateArgs& args) {
  LlmGenerationSession session = LlmGenerationSession::open(args.flags);
  const std::vector<int32_t> prompt = session.tokenizer->encode(args.prompt, !args.no_bos);
  std::cout << args.prompt << std::flush;
  const llm::GenerationStats stats = session.generator->generate(
      prompt, session.for_prompt(static_cast<int64_t>(prompt.size())),
      [](std::string_view text) { std::cout << text << std::flush; });
  std::cout << std::endl;
  print_generation_summary(stats);
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "Continue a prompt with an LLM, streaming the text");
  auto args = std::make_shared<GenerateArgs>();
  cmd->add_option("-p,--prompt", args->prompt, "the text to continue (default: empty, from BOS alone)");
  cmd->add_flag("--no-bos", args->no_bos, "encode the prompt without the tokenizer's special tokens (BOS)");
  add_llm_generation_flags(*cmd, args->flags);
  cmd->callback([args] { generate(*args); });
}

}  // namespace kiln::cli
