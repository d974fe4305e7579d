#include "llm/chat_template.h"

#include "kiln/error.h"
#include "llm/chat_template_eval.h"
#include "llm/gguf.h"
#include "llm/gguf_tokenizer.h"
#include "llm/model_files.h"
#include "llm/chat_template_lexer.h"
#include "llm/chat_template_parser.h"

namespace kiln::llm {

struct ChatTemplate::Program {
  std::string source;
  std::string name;
  std::vector<jinja::Node> nodes;
};

ChatTemplate ChatTemplate::parse(std::string source, std::string name) {
  auto program = std::make_shared<Program>();
  program->nodes = jinja::parse_template(jinja::tokenize(source, name), name);
  program->source = std::move(source);
  program->name = std::move(name);
  ChatTemplate t;
  t.program_ = std::move(program);
  return t;
}

const std::string& ChatTemplate::source() const { return program_->source; }
const std::string& ChatTemplate::name() const { return program_->name; }

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                                 const TemplateContext& context) const {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const ChatMessage& m : messages) list.push_back({{"role", m.role}, {"content", m.content}});
  return render_json(list, add_generation_prompt, context);
}

std::string ChatTemplate::render_json(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                                      const TemplateContext& context) const {
  const std::string& name = program_->name;
  if (!messages.is_array()) throw Error(ErrorCode::InvalidArgument, name + ": messages must be a list");
  for (size_t i = 0; i < messages.size(); ++i)
    if (!messages[i].is_object())
      throw Error(ErrorCode::InvalidArgument, name + ": message " + std::to_string(i) + " is not an object");
  if (!context.variables.is_object())
    throw Error(ErrorCode::InvalidArgument, name + ": the context's variables must be a JSON object");
  jinja::Json variables = context.variables;
  for (const char* reserved : {"messages", "add_generation_prompt", "bos_token", "eos_token"})
    if (variables.contains(reserved))
      throw Error(ErrorCode::InvalidArgument, name + ": the context's variables may not set '" + reserved + "'");
  variables["messages"] = messages;
  variables["add_generation_prompt"] = add_generation_prompt;
  variables["bos_token"] = context.bos_token;
  variables["eos_token"] = context.eos_token;
  const ChatTemplateLimits& limits = context.limits;
  jinja::RenderBudget budget(limits.max_text_bytes, limits.max_value_bytes, limits.max_loop_iterations);
  return jinja::render_program(program_->nodes, name, std::move(variables), context.now.value_or(std::time(nullptr)),
                               budget);
}

namespace {

using json = nlohmann::json;

[[noreturn]] void bad_config(const std::string& path, const std::string& problem) {
  throw Error(ErrorCode::InvalidModel, path + ": " + problem);
}

std::string special_token(const json& config, const char* field, const std::string& path) {
  const auto it = config.find(field);
  if (it == config.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
    return (*it)["content"].get<std::string>();
  bad_config(path, std::string(field) + " must be a string or an object with a string 'content'");
}

std::string template_source(const json& field, const std::string& template_name, const std::string& path) {
  if (field.is_string()) return field.get<std::string>();
  if (!field.is_array()) bad_config(path, "chat_template must be a string or a list of named templates");
  std::string names;
  for (const json& entry : field) {
    if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string() || !entry.contains("template") ||
        !entry["template"].is_string())
      bad_config(path, "each chat_template entry must have a string 'name' and 'template'");
    if (entry["name"] == template_name) return entry["template"].get<std::string>();
    names += (names.empty() ? "" : ", ") + entry["name"].get<std::string>();
  }
  bad_config(path, "chat_template has no template named '" + template_name + "' (it has: " + names + ")");
}

}  // namespace

ModelChatTemplate load_chat_template(const std::string& model_path, const std::string& template_name) {
  return load_chat_template(ModelFiles::open(model_path), template_name);
}

ModelChatTemplate load_chat_template(const ModelFiles& files, const std::string& template_name) {
  if (std::optional<GgufFile> gguf = files.gguf()) return load_gguf_chat_template(gguf->metadata());
  const std::string path = files.path("tokenizer_config.json");
  const std::optional<std::string> text = files.read("tokenizer_config.json");
  if (!text) throw Error(ErrorCode::Io, "cannot open '" + path + "'");
  json config;
  try {
    config = json::parse(*text);
  } catch (const json::exception& e) {
    bad_config(path, std::string("not JSON (") + e.what() + ")");
  }
  if (!config.is_object()) bad_config(path, "not a JSON object");
  const std::string bos = special_token(config, "bos_token", path), eos = special_token(config, "eos_token", path);
  const auto field = config.find("chat_template");
  if (field != config.end() && !field->is_null())
    return {ChatTemplate::parse(template_source(*field, template_name, path), path + " chat_template"), bos, eos};
  const std::optional<std::string> jinja = files.read("chat_template.jinja");
  if (!jinja) bad_config(path, "has no chat_template, and there is no chat_template.jinja beside it");
  return {ChatTemplate::parse(*jinja, files.path("chat_template.jinja")), bos, eos};
}

}  // namespace kiln::llm
