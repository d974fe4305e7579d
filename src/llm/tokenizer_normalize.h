// tokenizer.json's "normalizer": what is done to text before it is split into words. Supported:
// Sequence, Prepend, Replace, Strip and the Unicode normal forms NFC, NFD, NFKC, NFKD (through
// ICU, whose tables Kiln has no reason to carry a second copy of).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "llm/tokenizer_json.h"

namespace kiln::llm {

class Normalizer {
 public:
  Normalizer() = default;  // leaves text as it is
  // Throws Error(NotImplemented) naming the path for a type Kiln does not support, and
  // Error(InvalidModel) for a malformed one.
  static Normalizer from_json(const JsonAt& spec);

  bool empty() const { return steps_.empty(); }
  // `text` is valid UTF-8, and stays so.
  std::string apply(std::string text) const;

 private:
  void add(const JsonAt& spec);
  std::vector<std::function<void(std::string&)>> steps_;
};

}  // namespace kiln::llm
