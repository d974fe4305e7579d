#include "llm/tokenizer_byte_level.h"

#include <array>

#include "llm/tokenizer_utf8.h"

namespace kiln::llm {
namespace {

bool stands_for_itself(int b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); }

struct Alphabet {
  std::array<std::string, 256> chars;
  std::array<int, 256 + 68> byte_of_code_point;  // -1 outside the alphabet
  Alphabet() {
    byte_of_code_point.fill(-1);
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      const int c = stands_for_itself(b) ? b : next++;
      append_utf8(static_cast<char32_t>(c), chars[static_cast<size_t>(b)]);
      byte_of_code_point[static_cast<size_t>(c)] = b;
    }
  }
};

const Alphabet& alphabet() {
  static const Alphabet a;
  return a;
}

}  // namespace

const std::string& byte_level_char(unsigned char byte) { return alphabet().chars[byte]; }

void append_byte_level(std::string_view bytes, std::string& out) {
  const Alphabet& a = alphabet();
  for (char b : bytes) out += a.chars[static_cast<unsigned char>(b)];
}

std::optional<std::string> bytes_of_byte_level(std::string_view text) {
  const Alphabet& a = alphabet();
  std::string bytes;
  for (size_t pos = 0; pos < text.size();) {
    const size_t n = utf8_sequence_length(text, pos);
    if (n == 0) return std::nullopt;
    const char32_t c = utf8_code_point(text, pos, n);
    if (c >= a.byte_of_code_point.size() || a.byte_of_code_point[c] < 0) return std::nullopt;
    bytes += static_cast<char>(a.byte_of_code_point[c]);
    pos += n;
  }
  return bytes;
}

}  // namespace kiln::llm
