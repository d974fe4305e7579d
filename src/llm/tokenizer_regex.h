// The Unicode regular expressions of tokenizer.json (\p{L}, \p{N}, (?i:...), lookahead), through
// PCRE2 in UTF mode with Unicode properties for \s, \w and \d, JIT-compiled where PCRE2 can.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiln::llm {

class Regex {
 public:
  // Throws Error(InvalidModel) with `where` (the file and JSON path) and PCRE2's reason.
  Regex(const std::string& pattern, const std::string& where);
  ~Regex();
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;

  // Every non-overlapping match in `text` (valid UTF-8), as [begin, end) byte offsets, left to
  // right; an empty match never ends the scan. Safe to call from several threads at once.
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view text) const;

 private:
  struct Compiled;
  std::unique_ptr<Compiled> compiled_;
};

}  // namespace kiln::llm
