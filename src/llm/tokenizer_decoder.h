// tokenizer.json's "decoder": how tokens become text again. Supported: Sequence, ByteLevel,
// Replace, ByteFallback, Fuse, Strip and Metaspace.
//
// Decoding is one token at a time, the text so far carried in a DecodeState, so that streamed
// output is by construction the text decode gives for all ids. Every step before Fuse (or all
// of them, without one) works on each token alone; after Fuse only Strip of the text's start is
// supported, the one Llama and Mistral files use, since a step over the whole text could change
// text already streamed.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "llm/tokenizer_json.h"

namespace kiln::llm {

// What the decoding of the tokens so far leaves for the next token to know.
struct DecodeState {
  size_t tokens = 0;     // tokens decoded (those skipped as special are not counted)
  size_t stripped = 0;   // characters Strip has taken from the start of the text
  bool started = false;  // whether the text has begun (Strip takes characters only before)
};

// The byte of a byte-fallback token "<0xNN>" (two upper-case hex digits), or -1 for any other token.
int fallback_byte(std::string_view token);

class TokenDecoder {
 public:
  TokenDecoder() = default;  // each token's text as it is
  // Throws Error(NotImplemented) naming the path for a type or order Kiln does not support, and
  // Error(InvalidModel) for a malformed one.
  static TokenDecoder from_json(const JsonAt& spec);

  // Appends the bytes that `token` adds to the text. `added`: an added token's content, which the
  // ByteLevel step leaves as it is (it is text, not byte-level symbols).
  void append(std::string_view token, bool added, DecodeState& state, std::string& out) const;

 private:
  using TokenStep = std::function<void(std::string& token, bool added, size_t index)>;
  void add(const JsonAt& spec);
  std::vector<TokenStep> token_steps_;
  bool fused_ = false;
  std::string strip_start_content_;  // Strip after Fuse: the character taken from the start
  size_t strip_start_ = 0;           // and how many of it at most
};

}  // namespace kiln::llm
