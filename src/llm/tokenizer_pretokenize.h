// tokenizer.json's "pre_tokenizer": how normalized text is cut into the words BPE encodes one at a
// time (no merge crosses a word boundary). Supported: Sequence, Split (a string or a regex, each of
// Hugging Face's delimiter behaviours, invert), ByteLevel (GPT-2's regex and byte alphabet) and
// Metaspace (SentencePiece's "▁" for spaces).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "llm/tokenizer_json.h"

namespace kiln::llm {

class PreTokenizer {
 public:
  PreTokenizer() = default;  // the text is one word
  // Throws Error(NotImplemented) naming the path for a type Kiln does not support, and
  // Error(InvalidModel) for a malformed one.
  static PreTokenizer from_json(const JsonAt& spec);

  // The words of `text`, one stretch of input between added tokens; `first_section` tells
  // Metaspace's prepend_scheme "first" whether it starts the input.
  std::vector<std::string> split(std::string_view text, bool first_section) const;

  // Whether a ByteLevel step maps words to GPT-2's byte alphabet (added tokens' text must then
  // be left as it is when decoding).
  bool byte_level() const { return byte_level_; }

 private:
  using Step = std::function<void(std::vector<std::string>& words, bool first_section)>;
  void add(const JsonAt& spec);
  std::vector<Step> steps_;
  bool byte_level_ = false;
};

}  // namespace kiln::llm
