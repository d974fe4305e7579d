// SentencePiece's normalizer without a character map (the "identity" rule of Llama 2, TinyLlama
// and Mistral): the dummy "▁" put before the text, runs of spaces, and spaces written as "▁". Only
// U+0020 is a space here, as in SentencePiece; tabs and newlines are characters like any other.
#pragma once

#include <string>
#include <string_view>

namespace kiln::llm {

// "▁" (U+2581), SentencePiece's sign for a space.
inline constexpr std::string_view kSpmSpace = "\xE2\x96\x81";

struct SpmNormalizer {
  bool add_dummy_prefix = true;          // a space before the text, so that a first word is like any other
  bool remove_extra_whitespaces = true;  // no spaces at either end, runs of them as one
  bool escape_whitespaces = true;        // spaces become kSpmSpace

  std::string apply(std::string_view text) const;
};

}  // namespace kiln::llm
