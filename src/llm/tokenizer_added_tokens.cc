#include "llm/tokenizer_added_tokens.h"

#include <algorithm>

#include "kiln/error.h"
#include "llm/tokenizer_utf8.h"

namespace kiln::llm {
namespace {

// Where the code point that ends at `end` (exclusive) begins.
size_t start_before(std::string_view text, size_t end) {
  size_t begin = end - 1;
  while (begin > 0 && (static_cast<unsigned char>(text[begin]) & 0xC0) == 0x80) --begin;
  return begin;
}

// The code point that ends at `end`, or that starts at `begin`; 0 at the text's edge.
char32_t code_point_before(std::string_view text, size_t end) {
  if (end == 0) return 0;
  const size_t begin = start_before(text, end);
  return utf8_code_point(text, begin, end - begin);
}

char32_t code_point_at(std::string_view text, size_t begin) {
  if (begin >= text.size()) return 0;
  return utf8_code_point(text, begin, std::max<size_t>(utf8_sequence_length(text, begin), 1));
}

// A letter, digit or underscore as far as single_word needs: anything but whitespace and ASCII
// punctuation (non-ASCII punctuation next to a single-word token is rare enough to ignore).
bool is_word_char(char32_t c) {
  if (c == 0 || is_unicode_whitespace(c)) return false;
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
  return true;
}

}  // namespace

void AddedTokens::add(AddedToken token) {
  const size_t index = tokens_.size();
  by_id_[token.id] = index;
  by_content_[token.content] = index;
  end_id_ = std::max(end_id_, token.id + 1);
  if (token.normalized) ++normalized_count_;
  auto& bucket = by_first_byte_[static_cast<unsigned char>(token.content[0])];
  tokens_.push_back(std::move(token));
  bucket.push_back(index);
  std::stable_sort(bucket.begin(), bucket.end(),
                   [&](size_t a, size_t b) { return tokens_[a].content.size() > tokens_[b].content.size(); });
}

const AddedToken* AddedTokens::match_at(std::string_view text, size_t pos, bool normalized) const {
  for (size_t i : by_first_byte_[static_cast<unsigned char>(text[pos])]) {
    const AddedToken& t = tokens_[i];
    if (t.normalized != normalized || text.compare(pos, t.content.size(), t.content) != 0) continue;
    if (t.single_word && (is_word_char(code_point_before(text, pos)) ||
                          is_word_char(code_point_at(text, pos + t.content.size()))))
      continue;
    return &t;
  }
  return nullptr;
}

std::vector<AddedTokens::Segment> AddedTokens::split(std::string_view text, bool normalized) const {
  std::vector<Segment> out;
  if (!any(normalized)) {
    out.push_back({text, -1});
    return out;
  }
  size_t done = 0;  // text before this is in `out`
  for (size_t pos = 0; pos < text.size(); ++pos) {
    const AddedToken* t = match_at(text, pos, normalized);
    if (!t) continue;
    size_t begin = pos, end = pos + t->content.size();
    if (t->lstrip)
      while (begin > done && is_unicode_whitespace(code_point_before(text, begin))) begin = start_before(text, begin);
    if (t->rstrip)
      while (end < text.size() && is_unicode_whitespace(code_point_at(text, end)))
        end += std::max<size_t>(utf8_sequence_length(text, end), 1);
    if (begin > done) out.push_back({text.substr(done, begin - done), -1});
    out.push_back({text.substr(begin, end - begin), t->id});
    done = end;
    pos = end - 1;
  }
  if (done < text.size()) out.push_back({text.substr(done), -1});
  return out;
}

void AddedTokens::encode(std::string_view text, const Normalize& normalize, const EncodePiece& encode_piece,
                         std::vector<int32_t>& ids) const {
  const size_t invalid = find_invalid_utf8(text);
  if (invalid != std::string_view::npos)
    throw Error(ErrorCode::InvalidArgument, "text to encode is not valid UTF-8 at byte " + std::to_string(invalid));
  const std::vector<Segment> sections = split(text, false);
  for (size_t i = 0; i < sections.size(); ++i) {
    if (sections[i].id >= 0) {
      ids.push_back(sections[i].id);
      continue;
    }
    const std::string normalized = normalize(sections[i].text);
    const std::vector<Segment> parts = split(normalized, true);
    for (size_t j = 0; j < parts.size(); ++j) {
      if (parts[j].id >= 0)
        ids.push_back(parts[j].id);
      else
        encode_piece(parts[j].text, i == 0 && j == 0, ids);
    }
  }
}

const AddedToken* AddedTokens::find(int32_t id) const {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

const AddedToken* AddedTokens::find(std::string_view content) const {
  const auto it = by_content_.find(std::string(content));
  return it == by_content_.end() ? nullptr : &tokens_[it->second];
}

}  // namespace kiln::llm
