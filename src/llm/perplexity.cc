#include "llm/perplexity.h"

#include <algorithm>

#include "kiln/error.h"
#include "llm/kv_cache.h"

namespace kiln::llm {
namespace {

// The length of the line break at text[i], 0 when there is none there.
size_t line_break_at(std::string_view text, size_t i) {
  constexpr std::string_view kAsciiBreaks = "\n\r\v\f\x1c\x1d\x1e";
  const char c = text[i];
  if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') return 2;
  if (kAsciiBreaks.find(c) != std::string_view::npos) return 1;
  const std::string_view rest = text.substr(i);
  if (rest.starts_with("\xc2\x85")) return 2;
  if (rest.starts_with("\xe2\x80\xa8") || rest.starts_with("\xe2\x80\xa9")) return 3;
  return 0;
}

// -log softmax(row)[target], in double: the sum over the vocabulary runs to 1e5 terms.
double token_nll(const float* row, int64_t vocab, int32_t target) {
  const float max = *std::max_element(row, row + vocab);
  double sum = 0.0;
  for (int64_t v = 0; v < vocab; ++v) sum += std::exp(static_cast<double>(row[v]) - max);
  return std::log(sum) + max - static_cast<double>(row[target]);
}

}  // namespace

std::vector<std::string> nonempty_lines(std::string_view text) {
  std::vector<std::string> lines;
  size_t begin = 0;
  for (size_t i = 0; i <= text.size();) {
    const size_t width = i < text.size() ? line_break_at(text, i) : 1;
    if (width == 0) {
      ++i;
      continue;
    }
    if (i > begin) lines.emplace_back(text.substr(begin, i - begin));
    i += width;
    begin = i;
  }
  return lines;
}

PerplexityResult score_lines(const LlamaForCausalLM& model, const Tokenizer& tokenizer,
                             std::span<const std::string> lines, int32_t bos_id, ThreadPool& pool,
                             int64_t batch_tokens) {
  if (lines.empty()) throw Error(ErrorCode::InvalidArgument, "perplexity: there are no lines to score");
  const int64_t limit = model.config().max_position_embeddings;
  std::vector<std::vector<int32_t>> sequences;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty())
      throw Error(ErrorCode::InvalidArgument, "perplexity: line " + std::to_string(i + 1) + " is empty");
    std::vector<int32_t> ids = {bos_id};
    const std::vector<int32_t> text = tokenizer.encode(lines[i], false);
    ids.insert(ids.end(), text.begin(), text.end());
    if (static_cast<int64_t>(ids.size()) > limit)
      throw Error(ErrorCode::InvalidArgument, "perplexity: line " + std::to_string(i + 1) + " has " +
                                                  std::to_string(ids.size()) + " tokens with BOS, the model's context is " +
                                                  std::to_string(limit));
    sequences.push_back(std::move(ids));
  }

  // Batches of whole lines, each ending before the line that would take it past batch_tokens.
  std::vector<std::pair<size_t, size_t>> batches;
  KvCacheShape shape = model.kv_cache_shape(0);
  const auto blocks_for = [&](size_t positions) { return (static_cast<int64_t>(positions) + shape.block_size - 1) / shape.block_size; };
  for (size_t first = 0; first < sequences.size();) {
    int64_t tokens = 0, blocks = 0;
    size_t last = first;
    for (; last < sequences.size() && (last == first || tokens + static_cast<int64_t>(sequences[last].size()) <= batch_tokens); ++last) {
      tokens += static_cast<int64_t>(sequences[last].size());
      blocks += blocks_for(sequences[last].size());
    }
    batches.emplace_back(first, last);
    shape.blocks = std::max(shape.blocks, blocks);
    first = last;
  }

  const int64_t vocab = model.config().vocab_size;
  KvCache cache(shape);
  ForwardState state;
  PerplexityResult result;
  for (const auto& [first, last] : batches) {
    std::vector<KvSequence> kv(last - first);
    std::vector<SequenceChunk> chunks;
    for (size_t i = first; i < last; ++i) chunks.push_back({&kv[i - first], sequences[i], true});
    model.forward(chunks, cache, state, pool);
    const float* row = state.logits.data();
    for (size_t i = first; i < last; ++i) {
      const std::vector<int32_t>& ids = sequences[i];
      for (size_t t = 0; t + 1 < ids.size(); ++t, row += vocab) result.nll += token_nll(row, vocab, ids[t + 1]);
      row += vocab;  // the last position predicts past the line
      result.tokens += static_cast<int64_t>(ids.size()) - 1;
    }
    for (KvSequence& sequence : kv) cache.release(sequence);
    result.lines += static_cast<int64_t>(last - first);
  }
  return result;
}

}  // namespace kiln::llm
