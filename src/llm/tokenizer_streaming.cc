#include "llm/tokenizer.h"
#include "llm/tokenizer_utf8.h"

namespace kiln::llm {

std::string StreamingDecoder::push(int32_t id) {
  if (skip_special_tokens_ && tokenizer_.is_special(id)) return {};
  tokenizer_.append_decoded(id, state_, pending_);
  std::string text;
  pending_.erase(0, append_utf8_lossy(pending_, false, text));
  return text;
}

std::string StreamingDecoder::finish() {
  std::string text;
  append_utf8_lossy(pending_, true, text);
  pending_.clear();
  return text;
}

}  // namespace kiln::llm
