#include "llm/tokenizer_bpe.h"

#include <cstdio>
#include <queue>

#include "kiln/error.h"
#include "llm/tokenizer_utf8.h"

namespace kiln::llm {

BpeModel::BpeModel(std::vector<std::pair<std::string, int32_t>> vocab,
                   const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions options,
                   const std::string& source, std::span<const int32_t> ranks)
    : options_(std::move(options)) {
  const auto fail = [&](const std::string& path, const std::string& problem) {
    throw Error(ErrorCode::InvalidModel, source + ": " + path + ": " + problem);
  };
  int32_t end = 0;
  for (const auto& [token, id] : vocab) end = std::max(end, id + 1);
  tokens_.resize(static_cast<size_t>(end));
  has_token_.assign(static_cast<size_t>(end), false);
  ids_.reserve(vocab.size());
  for (auto& [token, id] : vocab) {
    const auto slot = static_cast<size_t>(id);
    if (has_token_[slot])
      fail("model.vocab", "id " + std::to_string(id) + " is given to both '" + tokens_[slot] + "' and '" + token + "'");
    has_token_[slot] = true;
    tokens_[slot] = std::move(token);
    if (!ids_.emplace(tokens_[slot], id).second) fail("model.vocab", "token '" + tokens_[slot] + "' is listed twice");
  }
  merges_.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const auto& [left, right] = merges[i];
    const std::string path = "model.merges[" + std::to_string(i) + "]";
    const std::optional<int32_t> l = id(left), r = id(right), m = id(left + right);
    if (!l) fail(path, "'" + left + "' is not in the vocabulary");
    if (!r) fail(path, "'" + right + "' is not in the vocabulary");
    if (!m) fail(path, "the merged token '" + left + right + "' is not in the vocabulary");
    // A pair listed again keeps its first (best) rank, as Hugging Face's reader does.
    merges_.emplace(pair_key(*l, *r), Merge{ranks.empty() ? static_cast<int32_t>(i) : ranks[i], *m});
  }
  if (options_.unk_token) {
    unk_id_ = id(*options_.unk_token);
    if (!unk_id_) fail("model.unk_token", "'" + *options_.unk_token + "' is not in the vocabulary");
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    const std::optional<int32_t> byte_id = options_.byte_fallback ? id(name) : std::nullopt;
    byte_ids_[b] = byte_id ? *byte_id : -1;
  }
}

std::optional<int32_t> BpeModel::id(std::string_view token) const {
  const auto it = ids_.find(token);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::token(int32_t id) const {
  if (id < 0 || id >= end_id() || !has_token_[static_cast<size_t>(id)]) return nullptr;
  return &tokens_[static_cast<size_t>(id)];
}

void BpeModel::initial_symbols(std::string_view word, std::vector<int32_t>& ids) const {
  bool last_was_unk = false;
  for (size_t pos = 0; pos < word.size();) {
    const size_t n = std::max<size_t>(utf8_sequence_length(word, pos), 1);
    const std::string_view ch = word.substr(pos, n);
    pos += n;
    if (const std::optional<int32_t> known = id(ch)) {
      ids.push_back(*known);
      last_was_unk = false;
      continue;
    }
    if (options_.byte_fallback) {
      bool all_bytes = true;
      for (char b : ch) all_bytes = all_bytes && byte_ids_[static_cast<unsigned char>(b)] >= 0;
      if (all_bytes) {
        for (char b : ch) ids.push_back(byte_ids_[static_cast<unsigned char>(b)]);
        last_was_unk = false;
        continue;
      }
    }
    // Without an unk token the code point is dropped, as Hugging Face's BPE does.
    if (unk_id_ && !(options_.fuse_unk && last_was_unk)) ids.push_back(*unk_id_);
    last_was_unk = unk_id_.has_value();
  }
}

void BpeModel::encode(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (options_.ignore_merges)
    if (const std::optional<int32_t> whole = id(word)) {
      out.push_back(*whole);
      return;
    }
  std::vector<int32_t> symbols;
  initial_symbols(word, symbols);
  const int n = static_cast<int>(symbols.size());
  if (n <= 1) {
    out.insert(out.end(), symbols.begin(), symbols.end());
    return;
  }
  std::vector<int> prev(static_cast<size_t>(n)), next(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    prev[static_cast<size_t>(i)] = i - 1;
    next[static_cast<size_t>(i)] = i + 1 < n ? i + 1 : -1;
  }
  // A candidate merge of the symbol at `left` with its successor; it is stale when either symbol
  // has changed since it was queued.
  struct Candidate {
    int32_t rank;
    int left;
    int32_t left_id, right_id, merged;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  const auto consider = [&](int left) {
    if (left < 0) return;
    const int right = next[static_cast<size_t>(left)];
    if (right < 0) return;
    const int32_t a = symbols[static_cast<size_t>(left)], b = symbols[static_cast<size_t>(right)];
    const auto it = merges_.find(pair_key(a, b));
    if (it != merges_.end()) queue.push({it->second.rank, left, a, b, it->second.merged});
  };
  for (int i = 0; i + 1 < n; ++i) consider(i);
  constexpr int32_t kRemoved = -1;
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    const int right = next[static_cast<size_t>(c.left)];
    if (symbols[static_cast<size_t>(c.left)] != c.left_id || right < 0 || symbols[static_cast<size_t>(right)] != c.right_id)
      continue;
    symbols[static_cast<size_t>(c.left)] = c.merged;
    symbols[static_cast<size_t>(right)] = kRemoved;
    const int after = next[static_cast<size_t>(right)];
    next[static_cast<size_t>(c.left)] = after;
    if (after >= 0) prev[static_cast<size_t>(after)] = c.left;
    consider(prev[static_cast<size_t>(c.left)]);
    consider(c.left);
  }
  for (int i = 0; i >= 0; i = next[static_cast<size_t>(i)]) out.push_back(symbols[static_cast<size_t>(i)]);
}

}  // namespace kiln::llm
