// `kiln chat [MODEL]`: a conversation on stdin and stdout. Each line read is a user turn; the
// conversation so far goes through the model's chat template and the assistant's reply is
// streamed as it is generated. Ends at end of input or at a line "/exit". The cache keeps the
// conversation, so a turn prefills only what the previous turns did not.
#include <unistd.h>

#include <iostream>

#include "commands.h"
#include "llm/chat_template.h"
#include "llm_generation_flags.h"
#include "profile_flag.h"
#include "llm_model_flags.h"

namespace kiln::cli {
namespace {

struct ChatArgs {
  LlmGenerationFlags flags;
  std::string system;
};

void chat(const ChatArgs& args) {
  // The template first: a model without one fails before its weights are read.
  llm::load_chat_template(resolve_model_dir(args.flags.model));
  llm::LLM llm = open_llm(args.flags);
  std::vector<llm::ChatMessage> messages;
  if (!args.system.empty()) messages.push_back({"system", args.system});
  const bool interactive = isatty(STDIN_FILENO);
  std::string line;
  for (;;) {
    if (interactive) std::cout << "> " << std::flush;
    if (!std::getline(std::cin, line) || line == "/exit") break;
    if (line.empty()) continue;
    messages.push_back({"user", line});
    const llm::Completion reply = llm.chat(messages, args.flags.request, [](std::string_view text) {
      std::cout << text << std::flush;
      return true;
    });
    std::cout << std::endl;
    print_generation_summary(reply.stats);
    messages.push_back({"assistant", reply.text});
  }
  finish_profile(args.flags.profile, llm);
}

}  // namespace

void add_chat_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("chat", "Chat with an LLM through its chat template (user turns on stdin)");
  auto args = std::make_shared<ChatArgs>();
  cmd->add_option("--system", args->system, "a system message to open the conversation with");
  add_llm_generation_flags(*cmd, args->flags);
  cmd->callback([args] { chat(*args); });
}

}  // namespace kiln::cli
