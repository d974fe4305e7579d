#include "llm/tokenizer_decoder.h"

#include <memory>

#include "llm/tokenizer_byte_level.h"
#include "llm/tokenizer_pattern.h"
#include "llm/tokenizer_utf8.h"

namespace kiln::llm {
namespace {

// Strip's content: one character.
std::string strip_content(const JsonAt& spec) {
  const std::optional<JsonAt> content = spec.find("content");
  const std::string c = content ? content->string() : " ";
  if (c.empty() || utf8_sequence_length(c, 0) != c.size()) (content ? *content : spec).fail("must be one character");
  return c;
}

size_t count_of(const JsonAt& spec, const std::string& key) {
  const std::optional<JsonAt> v = spec.find(key);
  if (!v) return 0;
  const int64_t n = v->integer();
  if (n < 0) v->fail("must not be negative");
  return static_cast<size_t>(n);
}

}  // namespace

int fallback_byte(std::string_view token) {
  if (token.size() != 6 || token.substr(0, 3) != "<0x" || token[5] != '>') return -1;
  int value = 0;
  for (char c : token.substr(3, 2)) {
    const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

TokenDecoder TokenDecoder::from_json(const JsonAt& spec) {
  TokenDecoder d;
  d.add(spec);
  return d;
}

void TokenDecoder::add(const JsonAt& spec) {
  const JsonAt type_at = spec.get("type");
  const std::string type = type_at.string();
  if (type == "Sequence") {
    for (const JsonAt& step : spec.get("decoders").elements()) add(step);
    return;
  }
  if (fused_) {
    if (type == "Strip" && count_of(spec, "stop") == 0) {
      strip_start_content_ = strip_content(spec);
      strip_start_ = count_of(spec, "start");
      return;
    }
    if (type == "Fuse") return;
    type_at.fail("decoder '" + type + "' after Fuse is not supported (only Strip of the start)", ErrorCode::NotImplemented);
  }
  if (type == "Fuse") {
    fused_ = true;
  } else if (type == "ByteLevel") {
    token_steps_.push_back([](std::string& token, bool added, size_t) {
      if (added) return;
      // Text outside the byte alphabet is kept as its own bytes, as Hugging Face does.
      if (std::optional<std::string> bytes = bytes_of_byte_level(token)) token = std::move(*bytes);
    });
  } else if (type == "Replace") {
    auto pattern = std::make_shared<Pattern>(Pattern::from_json(spec.get("pattern")));
    token_steps_.push_back([pattern, content = spec.get("content").string()](std::string& token, bool, size_t) {
      token = pattern->replace_all(token, content);
    });
  } else if (type == "ByteFallback") {
    token_steps_.push_back([](std::string& token, bool, size_t) {
      const int byte = fallback_byte(token);
      if (byte >= 0) token = std::string(1, static_cast<char>(byte));
    });
  } else if (type == "Strip") {
    const std::string content = strip_content(spec);
    const size_t start = count_of(spec, "start"), stop = count_of(spec, "stop");
    token_steps_.push_back([=](std::string& token, bool, size_t) {
      size_t begin = 0, end = token.size();
      for (size_t i = 0; i < start && token.compare(begin, content.size(), content) == 0; ++i) begin += content.size();
      for (size_t i = 0; i < stop && end >= begin + content.size() &&
                         token.compare(end - content.size(), content.size(), content) == 0; ++i)
        end -= content.size();
      token = token.substr(begin, end - begin);
    });
  } else if (type == "Metaspace") {
    auto marker = std::make_shared<Pattern>(Pattern::literal(spec.get("replacement").string()));
    const std::string scheme = spec.string_or("prepend_scheme", spec.boolean_or("add_prefix_space", true) ? "always" : "never");
    token_steps_.push_back([marker, strip_first = scheme != "never"](std::string& token, bool, size_t index) {
      token = marker->replace_all(token, " ");
      if (strip_first && index == 0 && !token.empty() && token[0] == ' ') token.erase(0, 1);
    });
  } else {
    type_at.fail("decoder '" + type + "' is not supported (Sequence, ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace)",
                 ErrorCode::NotImplemented);
  }
}

void TokenDecoder::append(std::string_view token, bool added, DecodeState& state, std::string& out) const {
  std::string text(token);
  for (const TokenStep& step : token_steps_) step(text, added, state.tokens);
  ++state.tokens;
  size_t begin = 0;
  while (!state.started && begin < text.size()) {
    if (state.stripped < strip_start_ && text.compare(begin, strip_start_content_.size(), strip_start_content_) == 0) {
      begin += strip_start_content_.size();
      ++state.stripped;
    } else {
      state.started = true;
    }
  }
  out.append(text, begin);
}

}  // namespace kiln::llm
