// UTF-8 as the tokenizers need it: stepping over code points, checking text given to encode, and
// turning decoded bytes (which a token sequence cut anywhere may leave invalid) into valid text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kiln::llm {

// The length of the well-formed sequence starting at text[pos], or 0 when the bytes there are not
// one (a stray continuation byte, an overlong form, a surrogate, a sequence cut short).
size_t utf8_sequence_length(std::string_view text, size_t pos);

// The code point of the well-formed sequence of `length` bytes at text[pos].
char32_t utf8_code_point(std::string_view text, size_t pos, size_t length);

void append_utf8(char32_t code_point, std::string& out);

// The offset of the first byte that does not begin a well-formed sequence, or npos.
size_t find_invalid_utf8(std::string_view text);

// Unicode's White_Space property.
bool is_unicode_whitespace(char32_t c);

// Appends bytes[0, n) as valid UTF-8, each maximal ill-formed subsequence becoming U+FFFD (the
// practice the Unicode standard recommends and WHATWG's and Rust's lossy decoders follow). With
// `final` false it stops before a trailing sequence that more bytes could still complete, so that
// feeding bytes in pieces gives the same text as feeding them at once; it returns how many bytes
// it consumed.
size_t append_utf8_lossy(std::string_view bytes, bool final, std::string& out);

}  // namespace kiln::llm
