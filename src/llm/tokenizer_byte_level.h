// GPT-2's byte-level alphabet: each of the 256 byte values stands for one printable code point, so
// that byte-level BPE vocabularies are text. Printable Latin-1 bytes (! to ~, ¡ to ¬, ® to ÿ)
// stand for themselves; the other 68 (controls, space, soft hyphen) for U+0100 onwards, in order.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kiln::llm {

// The UTF-8 of the code point that stands for `byte`.
const std::string& byte_level_char(unsigned char byte);

// Appends the byte-level text standing for `bytes`.
void append_byte_level(std::string_view bytes, std::string& out);

// The bytes that byte-level text stands for; nullopt when a code point is outside the alphabet.
std::optional<std::string> bytes_of_byte_level(std::string_view text);

}  // namespace kiln::llm
