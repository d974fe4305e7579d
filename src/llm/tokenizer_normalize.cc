#include "llm/tokenizer_normalize.h"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>

#include <memory>

#include "llm/tokenizer_pattern.h"
#include "llm/tokenizer_utf8.h"

namespace kiln::llm {
namespace {

using NormalizerGetter = const icu::Normalizer2* (*)(UErrorCode&);

std::function<void(std::string&)> unicode_form(const JsonAt& spec, const std::string& type) {
  NormalizerGetter get = type == "NFC"   ? icu::Normalizer2::getNFCInstance
                         : type == "NFD" ? icu::Normalizer2::getNFDInstance
                         : type == "NFKC" ? icu::Normalizer2::getNFKCInstance
                                          : icu::Normalizer2::getNFKDInstance;
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* form = get(status);
  if (U_FAILURE(status)) spec.fail(std::string("ICU has no ") + type + " data: " + u_errorName(status), ErrorCode::Runtime);
  return [form](std::string& text) {
    UErrorCode s = U_ZERO_ERROR;
    if (form->isNormalizedUTF8(text, s) && U_SUCCESS(s)) return;
    std::string out;
    icu::StringByteSink<std::string> sink(&out, static_cast<int32_t>(text.size()));
    s = U_ZERO_ERROR;
    form->normalizeUTF8(0, text, sink, nullptr, s);
    if (U_FAILURE(s)) throw Error(ErrorCode::Runtime, std::string("Unicode normalization failed: ") + u_errorName(s));
    text = std::move(out);
  };
}

// Strip's notion of whitespace, Unicode's White_Space.
size_t leading_space(const std::string& text) {
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t n = utf8_sequence_length(text, pos);
    if (n == 0 || !is_unicode_whitespace(utf8_code_point(text, pos, n))) break;
    pos += n;
  }
  return pos;
}

size_t trailing_space_start(const std::string& text) {
  size_t end = text.size();
  while (end > 0) {
    size_t begin = end - 1;
    while (begin > 0 && (static_cast<unsigned char>(text[begin]) & 0xC0) == 0x80) --begin;
    if (!is_unicode_whitespace(utf8_code_point(text, begin, end - begin))) break;
    end = begin;
  }
  return end;
}

}  // namespace

Normalizer Normalizer::from_json(const JsonAt& spec) {
  Normalizer n;
  n.add(spec);
  return n;
}

void Normalizer::add(const JsonAt& spec) {
  const std::string type = spec.get("type").string();
  if (type == "Sequence") {
    for (const JsonAt& step : spec.get("normalizers").elements()) add(step);
  } else if (type == "Prepend") {
    // Hugging Face prepends to non-empty text only.
    steps_.push_back([prefix = spec.get("prepend").string()](std::string& text) {
      if (!text.empty()) text.insert(0, prefix);
    });
  } else if (type == "Replace") {
    auto pattern = std::make_shared<Pattern>(Pattern::from_json(spec.get("pattern")));
    steps_.push_back([pattern, content = spec.get("content").string()](std::string& text) {
      text = pattern->replace_all(text, content);
    });
  } else if (type == "Strip") {
    const bool left = spec.boolean_or("strip_left", true), right = spec.boolean_or("strip_right", true);
    steps_.push_back([left, right](std::string& text) {
      if (right) text.erase(trailing_space_start(text));
      if (left) text.erase(0, leading_space(text));
    });
  } else if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
    steps_.push_back(unicode_form(spec, type));
  } else {
    spec.get("type").fail("normalizer '" + type + "' is not supported (Sequence, Prepend, Replace, Strip, NFC, NFD, NFKC, NFKD)",
                          ErrorCode::NotImplemented);
  }
}

std::string Normalizer::apply(std::string text) const {
  for (const auto& step : steps_) step(text);
  return text;
}

}  // namespace kiln::llm
