// Chat templates: the Jinja `chat_template` of a Hugging Face tokenizer_config.json, which turns a
// conversation into the prompt text a model was trained on. Kiln interprets the subset of Jinja
// that the Llama-2/3/3.1, Mistral, Qwen2/2.5/3 (ChatML) and Zephyr templates use, rendering as
// Hugging Face does (trim_blocks and lstrip_blocks on, its tojson, raise_exception and
// strftime_now). A template using anything outside the subset fails to parse, or fails when a
// render reaches it, with an error naming the construct and its line:column; it never renders
// part of the prompt.
#pragma once

#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kiln/llm_types.h"

namespace kiln::llm {

class ModelFiles;

// What one render may do before it fails: bounds for malformed or hostile templates, far above
// any real prompt.
struct ChatTemplateLimits {
  size_t max_text_bytes = size_t{256} << 20;  // all the text a render builds, its output included
  size_t max_value_bytes = size_t{64} << 20;  // the largest string, list or output
  size_t max_loop_iterations = size_t{1} << 20;
};

struct TemplateContext {
  std::string bos_token;
  std::string eos_token;
  // Further variables the template may read (tools, date_string, enable_thinking, ...): a JSON
  // object. Ordered, as Python's dicts are, for tojson and items(). It may not redefine messages,
  // add_generation_prompt, bos_token or eos_token.
  nlohmann::ordered_json variables = nlohmann::ordered_json::object();
  std::optional<std::time_t> now;  // strftime_now's clock (local time); the current time when empty
  ChatTemplateLimits limits;
};

class ChatTemplate {
 public:
  // Throws Error(InvalidArgument) for malformed Jinja and Error(NotImplemented) for Jinja outside
  // Kiln's subset, each message starting with `name` and the line:column.
  static ChatTemplate parse(std::string source, std::string name = "chat template");

  // The prompt for `messages`, ending with the assistant's header when add_generation_prompt is
  // set (as far as the template does so). Throws Error(InvalidArgument) with the template's own
  // message when it calls raise_exception (a conversation it rejects), and Error(InvalidArgument)
  // or Error(NotImplemented) naming the line:column for an operation it cannot do.
  std::string render(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                     const TemplateContext& context = {}) const;
  // The same with messages as a JSON list of objects, for fields beyond role and content
  // (tool_calls, reasoning_content, ...).
  std::string render_json(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                          const TemplateContext& context = {}) const;

  const std::string& source() const;
  const std::string& name() const;

 private:
  ChatTemplate() = default;
  struct Program;
  std::shared_ptr<const Program> program_;
};

// A model directory's chat template and the special tokens it refers to.
struct ModelChatTemplate {
  ChatTemplate chat_template;
  std::string bos_token;  // empty when tokenizer_config.json has none
  std::string eos_token;
};

// A GGUF's template (gguf_tokenizer.h) when the files are a GGUF's. Otherwise reads
// tokenizer_config.json: chat_template as one string, or as a list of {"name", "template"}
// entries from which `template_name` is taken; bos_token and eos_token as strings or as
// added-token objects ({"content": ...}). Without a chat_template there, reads
// chat_template.jinja, where newer exports keep it. Throws Error(Io) when neither can be read,
// Error(InvalidModel) naming the file for a malformed config or a missing template, and the parse
// errors of ChatTemplate::parse naming the file.
ModelChatTemplate load_chat_template(const ModelFiles& files, const std::string& template_name = "default");
// The same for the model at `model_path`: a directory, a GGUF file or an LLM engine.
ModelChatTemplate load_chat_template(const std::string& model_path, const std::string& template_name = "default");

}  // namespace kiln::llm
