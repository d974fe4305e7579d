#include "llm/chat_template_lexer.h"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace kiln::llm::jinja {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string normalize_newlines(const std::string& source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | cp >> 6);
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | cp >> 12);
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | cp >> 18);
    out += static_cast<char>(0x80 | (cp >> 12 & 0x3f));
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

class Lexer {
 public:
  Lexer(const std::string& source, const std::string& name) : src_(normalize_newlines(source)), name_(name) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i)
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
  }

  std::vector<Token> run() {
    size_t i = 0;
    bool strip_leading = false;  // the previous tag ended with '-'
    bool trim_newline = false;   // the previous tag was a block or comment (trim_blocks)
    while (true) {
      const size_t open = next_tag(i);
      std::string text = src_.substr(i, open - i);
      // Whether `text` starts a line, for lstrip_blocks: at the template's start, or after a tag
      // whose whitespace control took a newline.
      bool line_starting = i == 0;
      if (strip_leading) {
        const size_t taken = static_cast<size_t>(std::find_if_not(text.begin(), text.end(), is_space) - text.begin());
        line_starting = taken > 0 && text[taken - 1] == '\n';
        text.erase(0, taken);
      } else if (trim_newline && !text.empty() && text[0] == '\n') {
        line_starting = true;
        text.erase(0, 1);
      }
      if (open == src_.size()) {
        add_text(std::move(text), i);
        break;
      }
      const char kind = src_[open + 1];
      const char marker = open + 2 < src_.size() ? src_[open + 2] : '\0';
      if (marker == '-')
        text.erase(std::find_if_not(text.rbegin(), text.rend(), is_space).base(), text.end());
      else if (marker != '+' && kind != '{')
        lstrip_block(text, line_starting);
      add_text(std::move(text), i);
      size_t pos = open + 2 + (marker == '-' || marker == '+' ? 1 : 0);
      bool strip_end = false, keep_newline = false;
      if (kind == '#') {
        const size_t close = src_.find("#}", pos);
        if (close == std::string::npos) fail(open, "the comment is never closed with '#}'");
        strip_end = close > pos && src_[close - 1] == '-';
        keep_newline = close > pos && src_[close - 1] == '+';
        i = close + 2;
      } else {
        const bool is_var = kind == '{';
        tokens_.push_back({is_var ? TokenKind::VarBegin : TokenKind::BlockBegin, "", pos_of(open)});
        i = lex_tag(pos, open, is_var, strip_end, keep_newline);
        tokens_.push_back({is_var ? TokenKind::VarEnd : TokenKind::BlockEnd, "", pos_of(i - 2)});
      }
      strip_leading = strip_end;
      trim_newline = kind != '{' && !keep_newline;
    }
    tokens_.push_back({TokenKind::End, "", pos_of(src_.size())});
    return std::move(tokens_);
  }

 private:
  SourcePos pos_of(size_t offset) const {
    const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset) - 1;
    return {static_cast<int>(it - line_starts_.begin()) + 1, static_cast<int>(offset - *it) + 1};
  }
  [[noreturn]] void fail(size_t offset, const std::string& problem) const {
    fail_at(ErrorCode::InvalidArgument, name_, pos_of(offset), problem);
  }

  size_t next_tag(size_t from) const {
    for (size_t j = src_.find('{', from); j != std::string::npos; j = src_.find('{', j + 1))
      if (j + 1 < src_.size() && (src_[j + 1] == '{' || src_[j + 1] == '%' || src_[j + 1] == '#')) return j;
    return src_.size();
  }

  // lstrip_blocks: a block or comment tag preceded on its line only by spaces and tabs takes them.
  static void lstrip_block(std::string& text, bool line_starting) {
    const size_t line = text.rfind('\n');
    const size_t start = line == std::string::npos ? 0 : line + 1;
    if (line == std::string::npos && !line_starting) return;
    if (std::all_of(text.begin() + static_cast<std::ptrdiff_t>(start), text.end(), is_space)) text.erase(start);
  }

  void add_text(std::string text, size_t offset) {
    if (!text.empty()) tokens_.push_back({TokenKind::Text, std::move(text), pos_of(offset)});
  }

  // Lexes the tag's tokens from `pos` up to its closing '}}' or '%}' (braces inside balanced, so a
  // dict literal's '}' does not end it) and returns the offset just past the close.
  size_t lex_tag(size_t pos, size_t open, bool is_var, bool& strip_end, bool& keep_newline) {
    const char closer = is_var ? '}' : '%';
    int depth = 0;
    while (true) {
      while (pos < src_.size() && is_space(src_[pos])) ++pos;
      if (pos >= src_.size())
        fail(open, std::string("the tag is never closed with '") + closer + "}'");
      const char c = src_[pos];
      const auto closes_at = [&](size_t at) {
        return depth == 0 && at + 1 < src_.size() && src_[at] == closer && src_[at + 1] == '}';
      };
      if ((c == '-' || c == '+') && closes_at(pos + 1)) {
        if (c == '+' && is_var) fail(pos, "'+' cannot mark the end of a '{{' tag");
        (c == '-' ? strip_end : keep_newline) = true;
        return pos + 3;
      }
      if (closes_at(pos)) return pos + 2;
      if (is_name_start(c)) {
        size_t end = pos;
        while (end < src_.size() && is_name_char(src_[end])) ++end;
        tokens_.push_back({TokenKind::Name, src_.substr(pos, end - pos), pos_of(pos)});
        pos = end;
      } else if (is_digit(c)) {
        pos = lex_number(pos);
      } else if (c == '\'' || c == '"') {
        pos = lex_string(pos);
      } else {
        pos = lex_operator(pos, depth);
      }
    }
  }

  size_t lex_number(size_t pos) {
    size_t end = pos;
    while (end < src_.size() && is_digit(src_[end])) ++end;
    // After '.', digits are an index (`messages.0`), never a float's fraction.
    const bool after_dot = !tokens_.empty() && tokens_.back().kind == TokenKind::Operator && tokens_.back().text == ".";
    bool is_float = false;
    if (!after_dot && end + 1 < src_.size() && src_[end] == '.' && is_digit(src_[end + 1])) {
      is_float = true;
      for (++end; end < src_.size() && is_digit(src_[end]);) ++end;
    }
    if (!after_dot && end < src_.size() && (src_[end] == 'e' || src_[end] == 'E')) {
      size_t exp = end + 1;
      if (exp < src_.size() && (src_[exp] == '+' || src_[exp] == '-')) ++exp;
      if (exp < src_.size() && is_digit(src_[exp])) {
        is_float = true;
        for (end = exp; end < src_.size() && is_digit(src_[end]);) ++end;
      }
    }
    tokens_.push_back({is_float ? TokenKind::Float : TokenKind::Integer, src_.substr(pos, end - pos), pos_of(pos)});
    return end;
  }

  uint32_t hex_digits(size_t at, int count, size_t escape) const {
    uint32_t value = 0;
    for (int k = 0; k < count; ++k) {
      const char h = at + static_cast<size_t>(k) < src_.size() ? src_[at + static_cast<size_t>(k)] : '\0';
      if (!std::isxdigit(static_cast<unsigned char>(h))) fail(escape, "the escape needs " + std::to_string(count) + " hex digits");
      value = value * 16 + static_cast<uint32_t>(is_digit(h) ? h - '0' : std::tolower(h) - 'a' + 10);
    }
    return value;
  }

  // Python's string escapes (Jinja decodes string literals as Python's unicode-escape does).
  size_t lex_string(size_t pos) {
    const char quote = src_[pos];
    std::string value;
    size_t j = pos + 1;
    while (true) {
      if (j >= src_.size()) fail(pos, "the string is never closed");
      const char c = src_[j];
      if (c == quote) break;
      if (c != '\\') {
        value += c;
        ++j;
        continue;
      }
      if (j + 1 >= src_.size()) fail(pos, "the string is never closed");
      const char e = src_[j + 1];
      const size_t escape = j;
      j += 2;
      switch (e) {
        case 'n': value += '\n'; break;
        case 't': value += '\t'; break;
        case 'r': value += '\r'; break;
        case '\\': value += '\\'; break;
        case '\'': value += '\''; break;
        case '"': value += '"'; break;
        case 'a': value += '\a'; break;
        case 'b': value += '\b'; break;
        case 'f': value += '\f'; break;
        case 'v': value += '\v'; break;
        case '\n': break;  // a line continuation
        case 'x': append_utf8(value, hex_digits(j, 2, escape)); j += 2; break;
        case 'u': append_utf8(value, hex_digits(j, 4, escape)); j += 4; break;
        case 'U': {
          const uint32_t cp = hex_digits(j, 8, escape);
          if (cp > 0x10ffff) fail(escape, "\\U escape beyond U+10FFFF");
          append_utf8(value, cp);
          j += 8;
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            uint32_t cp = static_cast<uint32_t>(e - '0');
            for (int k = 0; k < 2 && j < src_.size() && src_[j] >= '0' && src_[j] <= '7'; ++k, ++j)
              cp = cp * 8 + static_cast<uint32_t>(src_[j] - '0');
            append_utf8(value, cp);
          } else if (e == 'N') {
            fail_at(ErrorCode::NotImplemented, name_, pos_of(escape), "the \\N{...} escape is not supported");
          } else {  // Python keeps an unknown escape as written
            value += '\\';
            value += e;
          }
      }
    }
    tokens_.push_back({TokenKind::String, std::move(value), pos_of(pos)});
    return j + 1;
  }

  size_t lex_operator(size_t pos, int& depth) {
    static const char* const kTwo[] = {"//", "**", "==", "!=", "<=", ">="};
    for (const char* op : kTwo) {
      if (src_.compare(pos, 2, op) == 0) {
        tokens_.push_back({TokenKind::Operator, op, pos_of(pos)});
        return pos + 2;
      }
    }
    const char c = src_[pos];
    if (std::string("+-*/%~<>=()[]{},.:|").find(c) == std::string::npos)
      fail(pos, std::string("unexpected character '") + c + "'");
    if (c == '(' || c == '[' || c == '{') ++depth;
    if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
    tokens_.push_back({TokenKind::Operator, std::string(1, c), pos_of(pos)});
    return pos + 1;
  }

  std::string src_;
  const std::string& name_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(const std::string& source, const std::string& template_name) {
  return Lexer(source, template_name).run();
}

}  // namespace kiln::llm::jinja
