#include "llm/tokenizer_spm_normalize.h"

namespace kiln::llm {

std::string SpmNormalizer::apply(std::string_view text) const {
  if (remove_extra_whitespaces) {
    const size_t begin = text.find_first_not_of(' ');
    text = begin == std::string_view::npos ? std::string_view() : text.substr(begin);
  }
  // Nothing to encode has no dummy prefix either: an empty text gives no ids.
  if (text.empty()) return {};
  const std::string_view space = escape_whitespaces ? kSpmSpace : std::string_view(" ");
  std::string out;
  out.reserve(text.size() + text.size() / 2 + space.size());
  if (add_dummy_prefix) out += space;
  bool after_space = false;
  for (char c : text) {
    if (c != ' ') {
      out += c;
      after_space = false;
    } else if (!(remove_extra_whitespaces && after_space)) {
      out += space;
      after_space = true;
    }
  }
  if (remove_extra_whitespaces)
    while (out.size() >= space.size() && std::string_view(out).substr(out.size() - space.size()) == space)
      out.resize(out.size() - space.size());
  return out;
}

}  // namespace kiln::llm
