// The "pattern" of tokenizer.json's Replace and Split steps: {"String": s} matches s literally,
// {"Regex": r} matches the regular expression r.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "llm/tokenizer_json.h"
#include "llm/tokenizer_regex.h"

namespace kiln::llm {

class Pattern {
 public:
  // Throws Error(InvalidModel) naming the path for anything but one non-empty String or one Regex.
  static Pattern from_json(const JsonAt& spec);
  static Pattern literal(std::string text);
  // Throws Error(InvalidModel) naming `where` when `pattern` does not compile.
  static Pattern regex(const std::string& pattern, const std::string& where);

  // Non-overlapping matches, left to right, as [begin, end) byte offsets.
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view text) const;
  std::string replace_all(std::string_view text, std::string_view content) const;

 private:
  std::string literal_;
  std::optional<Regex> regex_;
};

}  // namespace kiln::llm
