// `kiln generate [MODEL] --prompt TEXT`: continues a prompt, printing each piece of text to stdout
// as it is generated, then a one-line speed summary to stderr.
#include <iostream>

#include "commands.h"
#include "llm_generation_flags.h"
#include "profile_flag.h"

namespace kiln::cli {
namespace {

struct GenerateArgs {
  LlmGenerationFlags flags;
  std::string prompt;
  bool no_bos = false;
};

void generate(const GenerateArgs& args) {
  llm::LLM llm = open_llm(args.flags);
  const std::vector<int32_t> prompt = llm.encode(args.prompt, !args.no_bos);
  std::cout << args.prompt << std::flush;
  const llm::Completion completion = llm.generate(prompt, args.flags.request, [](std::string_view text) {
    std::cout << text << std::flush;
    return true;
  });
  std::cout << std::endl;
  print_generation_summary(completion.stats);
  finish_profile(args.flags.profile, llm);
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
