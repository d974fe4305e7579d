#include "llm/tokenizer_pretokenize.h"

#include <memory>

#include "llm/tokenizer_byte_level.h"
#include "llm/tokenizer_pattern.h"

namespace kiln::llm {
namespace {

// GPT-2's word pattern, which ByteLevel applies when its use_regex is true.
constexpr const char* kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

Behavior behavior_of(const JsonAt& spec) {
  const std::string name = spec.string();
  if (name == "Removed") return Behavior::Removed;
  if (name == "Isolated") return Behavior::Isolated;
  if (name == "MergedWithPrevious") return Behavior::MergedWithPrevious;
  if (name == "MergedWithNext") return Behavior::MergedWithNext;
  if (name == "Contiguous") return Behavior::Contiguous;
  spec.fail("'" + name + "' is not a split behavior (Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous)");
}

// Cuts `word` at the pattern's matches (or, inverted, at what lies between them) and appends the
// pieces as Hugging Face's SplitDelimiterBehavior says.
void split_word(const Pattern& pattern, Behavior behavior, bool invert, std::string_view word,
                std::vector<std::string>& out) {
  struct Span {
    size_t begin, end;
    bool delimiter;
  };
  std::vector<Span> spans;
  size_t done = 0;
  for (const auto& [begin, end] : pattern.find_all(word)) {
    if (begin > done) spans.push_back({done, begin, invert});
    spans.push_back({begin, end, !invert});
    done = end;
  }
  if (done < word.size()) spans.push_back({done, word.size(), invert});

  const auto piece = [&](size_t begin, size_t end) {
    if (end > begin) out.emplace_back(word.substr(begin, end - begin));
  };
  switch (behavior) {
    case Behavior::Removed:
      for (const Span& s : spans)
        if (!s.delimiter) piece(s.begin, s.end);
      break;
    case Behavior::Isolated:
      for (const Span& s : spans) piece(s.begin, s.end);
      break;
    case Behavior::Contiguous:
      for (size_t i = 0; i < spans.size();) {
        size_t j = i + 1;
        while (j < spans.size() && spans[i].delimiter && spans[j].delimiter) ++j;
        piece(spans[i].begin, spans[j - 1].end);
        i = j;
      }
      break;
    case Behavior::MergedWithPrevious: {
      size_t start = 0;
      for (const Span& s : spans)
        if (s.delimiter) {
          piece(start, s.end);
          start = s.end;
        }
      piece(start, word.size());
      break;
    }
    case Behavior::MergedWithNext: {
      size_t start = 0;
      for (const Span& s : spans)
        if (s.delimiter) {
          piece(start, s.begin);
          start = s.begin;
        }
      piece(start, word.size());
      break;
    }
  }
}

void split_all(const Pattern& pattern, Behavior behavior, bool invert, std::vector<std::string>& words) {
  std::vector<std::string> out;
  for (const std::string& w : words) split_word(pattern, behavior, invert, w, out);
  words = std::move(out);
}

}  // namespace

PreTokenizer PreTokenizer::from_json(const JsonAt& spec) {
  PreTokenizer p;
  p.add(spec);
  return p;
}

void PreTokenizer::add(const JsonAt& spec) {
  const std::string type = spec.get("type").string();
  if (type == "Sequence") {
    for (const JsonAt& step : spec.get("pretokenizers").elements()) add(step);
  } else if (type == "Split") {
    auto pattern = std::make_shared<Pattern>(Pattern::from_json(spec.get("pattern")));
    const Behavior behavior = behavior_of(spec.get("behavior"));
    const bool invert = spec.boolean_or("invert", false);
    steps_.push_back([=](std::vector<std::string>& words, bool) { split_all(*pattern, behavior, invert, words); });
  } else if (type == "ByteLevel") {
    const bool prefix_space = spec.boolean_or("add_prefix_space", true);
    std::shared_ptr<Pattern> gpt2;
    if (spec.boolean_or("use_regex", true)) gpt2 = std::make_shared<Pattern>(Pattern::regex(kGpt2Pattern, spec.where()));
    byte_level_ = true;
    steps_.push_back([=](std::vector<std::string>& words, bool) {
      if (prefix_space)
        for (std::string& w : words)
          if (w.empty() || w[0] != ' ') w.insert(0, " ");
      if (gpt2) split_all(*gpt2, Behavior::Isolated, false, words);
      for (std::string& w : words) {
        std::string mapped;
        append_byte_level(w, mapped);
        w = std::move(mapped);
      }
    });
  } else if (type == "Metaspace") {
    const std::string replacement = spec.get("replacement").string();
    if (replacement.empty()) spec.get("replacement").fail("must not be empty");
    std::string scheme = spec.string_or("prepend_scheme", spec.boolean_or("add_prefix_space", true) ? "always" : "never");
    if (scheme != "always" && scheme != "first" && scheme != "never")
      spec.get("prepend_scheme").fail("'" + scheme + "' is not one of always, first, never");
    const bool split = spec.boolean_or("split", true);
    auto space = std::make_shared<Pattern>(Pattern::literal(" "));
    auto marker = std::make_shared<Pattern>(Pattern::literal(replacement));
    steps_.push_back([=](std::vector<std::string>& words, bool first_section) {
      for (size_t i = 0; i < words.size(); ++i) {
        std::string& w = words[i];
        w = space->replace_all(w, replacement);
        const bool prepend = scheme == "always" || (scheme == "first" && first_section && i == 0);
        if (prepend && w.compare(0, replacement.size(), replacement) != 0) w.insert(0, replacement);
      }
      if (split) split_all(*marker, Behavior::MergedWithNext, false, words);
    });
  } else {
    spec.get("type").fail("pre_tokenizer '" + type + "' is not supported (Sequence, Split, ByteLevel, Metaspace)",
                          ErrorCode::NotImplemented);
  }
}

std::vector<std::string> PreTokenizer::split(std::string_view text, bool first_section) const {
  std::vector<std::string> words{std::string(text)};
  for (const Step& step : steps_) step(words, first_section);
  return words;
}

}  // namespace kiln::llm
