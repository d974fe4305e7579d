#include "llm/tokenizer_pattern.h"

namespace kiln::llm {

Pattern Pattern::from_json(const JsonAt& spec) {
  const std::optional<JsonAt> literal = spec.find("String");
  const std::optional<JsonAt> regex = spec.find("Regex");
  if (literal.has_value() == regex.has_value()) spec.fail("must have one of String and Regex");
  if (literal) {
    std::string text = literal->string();
    if (text.empty()) literal->fail("must not be empty");
    return Pattern::literal(std::move(text));
  }
  return Pattern::regex(regex->string(), regex->where());
}

Pattern Pattern::regex(const std::string& pattern, const std::string& where) {
  Pattern p;
  p.regex_.emplace(pattern, where);
  return p;
}

Pattern Pattern::literal(std::string text) {
  Pattern p;
  p.literal_ = std::move(text);
  return p;
}

std::vector<std::pair<size_t, size_t>> Pattern::find_all(std::string_view text) const {
  if (regex_) return regex_->find_all(text);
  std::vector<std::pair<size_t, size_t>> found;
  for (size_t pos = text.find(literal_); pos != std::string_view::npos; pos = text.find(literal_, pos + literal_.size()))
    found.emplace_back(pos, pos + literal_.size());
  return found;
}

std::string Pattern::replace_all(std::string_view text, std::string_view content) const {
  std::string out;
  size_t done = 0;
  for (const auto& [begin, end] : find_all(text)) {
    out.append(text.substr(done, begin - done));
    out.append(content);
    done = end;
  }
  out.append(text.substr(done));
  return out;
}

}  // namespace kiln::llm
