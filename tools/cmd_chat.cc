// `kiln chat [MODEL]`: a conversation on stdin and stdout. Each line read is a user turn; the
// conversation so far goes through the model's chat template and the assistant's reply is
// streamed as it is generated. Ends at end of input or at a line "/exit". The cache keeps the
// conversation, so a turn prefills only what the previous turns did not.
#include <unistd.h>

#include <iostream>

#include "commands.h"
#include "llm/chat_template.h"
#include "llm_generation_flags.h"

namespace kiln::cli {
namespace {

struct ChatArgs {
  LlmGenerationFlags flags;
  std::string system;
};

void chat(const ChatArgs& args) {
  // The template first: a model without one fails before its weights are read.
  const llm::ModelChatTemplate chat_template = llm::load_chat_template(resolve_model_dir(args.flags.model));
  LlmGenerationSession session = LlmGenerationSession::open(args.flags);
  const llm::TemplateContext context{.bos_token = chat_template.bos_token, .eos_token = chat_template.eos_token};
  std::vector<llm::ChatMessage> messages;
  if (!args.system.empty()) messages.push_back({"system", args.system});
  const bool interactive = isatty(STDIN_FILENO);
  std::string line;
  for (;;) {
    if (interactive) std::cout << "> " << std::flush;
    if (!std::getline(std::cin, line) || line == "/exit") break;
    if (line.empty()) continue;
    messages.push_back({"user", line});
    const std::string prompt_text = chat_template.chat_template.render(messages, true, context);
    const std::vector<int32_t> prompt = session.tokenizer->encode(prompt_text, false);
    std::string reply;
    const llm::GenerationStats stats = session.generator->generate(
        prompt, session.for_prompt(static_cast<int64_t>(prompt.size())), [&reply](std::string_view text) {
          reply += text;
          std::cout << text << std::flush;
        });
    std::cout << std::endl;
    print_generation_summary(stats);
    messages.push_back({"assistant", reply});
  }
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
