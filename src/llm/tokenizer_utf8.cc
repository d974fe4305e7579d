#include "llm/tokenizer_utf8.h"

namespace kiln::llm {
namespace {

// The bounds Unicode's table of well-formed sequences (Table 3-7) puts on the second byte, which
// exclude overlong forms, surrogates and code points past U+10FFFF; later bytes are 80..BF.
struct Lead {
  size_t length;
  unsigned char second_min, second_max;
};

Lead lead_of(unsigned char b) {
  if (b < 0x80) return {1, 0, 0};
  if (b >= 0xC2 && b <= 0xDF) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};
  if (b >= 0xE1 && b <= 0xEF) return {3, 0x80, 0xBF};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b >= 0xF1 && b <= 0xF3) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

// How many bytes from pos form the start of a well-formed sequence (at most the lead's length).
size_t valid_prefix(std::string_view text, size_t pos, const Lead& lead) {
  size_t n = 1;
  for (; n < lead.length && pos + n < text.size(); ++n) {
    const auto b = static_cast<unsigned char>(text[pos + n]);
    const bool ok = n == 1 ? b >= lead.second_min && b <= lead.second_max : b >= 0x80 && b <= 0xBF;
    if (!ok) break;
  }
  return n;
}

}  // namespace

size_t utf8_sequence_length(std::string_view text, size_t pos) {
  const Lead lead = lead_of(static_cast<unsigned char>(text[pos]));
  if (lead.length <= 1) return lead.length;
  return valid_prefix(text, pos, lead) == lead.length ? lead.length : 0;
}

char32_t utf8_code_point(std::string_view text, size_t pos, size_t length) {
  static constexpr unsigned char kLeadMask[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
  char32_t c = static_cast<unsigned char>(text[pos]) & kLeadMask[length];
  for (size_t i = 1; i < length; ++i) c = c << 6 | (static_cast<unsigned char>(text[pos + i]) & 0x3F);
  return c;
}

void append_utf8(char32_t c, std::string& out) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | c >> 6);
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | c >> 12);
    out += static_cast<char>(0x80 | (c >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | c >> 18);
    out += static_cast<char>(0x80 | (c >> 12 & 0x3F));
    out += static_cast<char>(0x80 | (c >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

size_t find_invalid_utf8(std::string_view text) {
  for (size_t pos = 0; pos < text.size();) {
    const size_t n = utf8_sequence_length(text, pos);
    if (n == 0) return pos;
    pos += n;
  }
  return std::string_view::npos;
}

bool is_unicode_whitespace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

size_t append_utf8_lossy(std::string_view bytes, bool final, std::string& out) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    const Lead lead = lead_of(static_cast<unsigned char>(bytes[pos]));
    if (lead.length == 0) {
      out += "\xEF\xBF\xBD";
      ++pos;
      continue;
    }
    const size_t n = lead.length == 1 ? 1 : valid_prefix(bytes, pos, lead);
    if (n == lead.length) {
      out.append(bytes.substr(pos, n));
    } else if (pos + n == bytes.size() && !final) {
      break;  // a sequence the next bytes may complete
    } else {
      out += "\xEF\xBF\xBD";
    }
    pos += n;
  }
  return pos;
}

}  // namespace kiln::llm
