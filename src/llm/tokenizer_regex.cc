#include "llm/tokenizer_regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "kiln/error.h"
#include "llm/tokenizer_utf8.h"

namespace kiln::llm {

struct Regex::Compiled {
  pcre2_code* code = nullptr;
  ~Compiled() { pcre2_code_free(code); }
};

Regex::Regex(const std::string& pattern, const std::string& where) : compiled_(std::make_unique<Compiled>()) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  compiled_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                  PCRE2_UTF | PCRE2_UCP, &error, &offset, nullptr);
  if (!compiled_->code) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof message);
    throw Error(ErrorCode::InvalidModel, where + ": regex /" + pattern + "/ does not compile at offset " +
                                             std::to_string(offset) + ": " + reinterpret_cast<char*>(message));
  }
  // Without JIT (a PCRE2 built without it) matching is slower but the same.
  pcre2_jit_compile(compiled_->code, PCRE2_JIT_COMPLETE);
}

Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;

std::vector<std::pair<size_t, size_t>> Regex::find_all(std::string_view text) const {
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> match(
      pcre2_match_data_create_from_pattern(compiled_->code, nullptr), pcre2_match_data_free);
  std::vector<std::pair<size_t, size_t>> found;
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  // The caller has checked the text once; PCRE2 would check it again at every match.
  uint32_t options = PCRE2_NO_UTF_CHECK;
  for (size_t start = 0; start <= text.size();) {
    const int rc = pcre2_match(compiled_->code, subject, text.size(), start, options, match.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(rc, message, sizeof message);
      throw Error(ErrorCode::Runtime, std::string("regex match failed: ") + reinterpret_cast<char*>(message));
    }
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match.get());
    const size_t begin = ovector[0], end = ovector[1];
    if (end > begin) {
      found.emplace_back(begin, end);
      start = end;
    } else {
      // An empty match: step over one code point so that the next search makes progress.
      if (begin >= text.size()) break;
      const size_t n = utf8_sequence_length(text, begin);
      start = begin + (n ? n : 1);
    }
  }
  return found;
}

}  // namespace kiln::llm
