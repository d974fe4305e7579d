#include "llm/tokenizer_config.h"

#include <nlohmann/json.hpp>

#include "llm/tokenizer_json.h"

namespace kiln::llm {

namespace {

void apply_tokenizer_config(const std::string& text, const std::string& path,
                            const std::function<std::optional<int32_t>(std::string_view)>& token_id,
                            SpecialTokenFraming& framing) {
  if (text.size() > kMaxTokenizerFileBytes) throw Error(ErrorCode::InvalidModel, path + ": larger than any tokenizer config");
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::InvalidModel, path + ": not JSON (" + e.what() + ")");
  }
  const JsonAt config(root, path, "");
  if (!root.is_object()) config.fail("not a JSON object");

  const auto special = [&](const char* field, std::optional<int32_t>& id) {
    std::optional<JsonAt> v = config.find(field);
    if (!v) return;
    const std::string content = v->value().is_object() ? v->get("content").string() : v->string();
    id = token_id(content);
    if (!id) v->fail("'" + content + "' is not in the vocabulary");
  };
  special("bos_token", framing.bos);
  special("eos_token", framing.eos);

  const std::optional<JsonAt> add_bos = config.find("add_bos_token"), add_eos = config.find("add_eos_token");
  if (!add_bos && !add_eos) return;
  framing.prefix.clear();
  framing.suffix.clear();
  if (add_bos && add_bos->boolean()) {
    if (!framing.bos) add_bos->fail("is true but there is no bos_token");
    framing.prefix.push_back(*framing.bos);
  }
  if (add_eos && add_eos->boolean()) {
    if (!framing.eos) add_eos->fail("is true but there is no eos_token");
    framing.suffix.push_back(*framing.eos);
  }
}

}  // namespace

FramingRule tokenizer_config_rule(const ModelFiles& files) {
  const std::string name = "tokenizer_config.json";
  std::optional<std::string> text = files.read(name);
  if (!text) return [](const auto&, SpecialTokenFraming&) {};
  return [text = std::move(*text), path = files.path(name)](
             const std::function<std::optional<int32_t>(std::string_view)>& token_id, SpecialTokenFraming& framing) {
    apply_tokenizer_config(text, path, token_id, framing);
  };
}

}  // namespace kiln::llm
