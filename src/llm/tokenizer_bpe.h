// The BPE model of tokenizer.json: a vocabulary and ranked merges. A word starts as its code points
// (each one's bytes as <0xNN> tokens under byte fallback when it is not in the vocabulary) and the
// adjacent pair of lowest rank is merged until no pair has a merge, leftmost first among equals.
// A heap of candidate pairs over a linked list of symbols keeps that O(n log n) in the word's length.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace kiln::llm {

struct BpeOptions {
  std::optional<std::string> unk_token;
  bool fuse_unk = false;       // consecutive unknown code points give one unk token
  bool byte_fallback = false;  // unknown code points become their bytes' <0xNN> tokens
  bool ignore_merges = false;  // a whole word in the vocabulary is that token, whatever the merges say
};

class BpeModel {
 public:
  // `ranks[i]` is the rank of merges[i]; merges of equal rank apply leftmost first (SentencePiece
  // ranks a merge by its result's score, and two merges may give one piece). Without ranks a
  // merge's rank is its place in the list. Throws Error(InvalidModel) naming `source` and the JSON
  // path (model.vocab, model.merges[i]) for an id given twice, a merge of tokens not in the
  // vocabulary, or an unk_token not in it.
  BpeModel(const BpeModel&) = delete;  // ids_ views tokens_
  BpeModel& operator=(const BpeModel&) = delete;
  BpeModel(BpeModel&&) = default;  // moving a vector keeps its elements where they are
  BpeModel(std::vector<std::pair<std::string, int32_t>> vocab,
           const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions options,
           const std::string& source, std::span<const int32_t> ranks = {});

  // Appends the ids of `word`, which is valid UTF-8.
  void encode(std::string_view word, std::vector<int32_t>& out) const;

  std::optional<int32_t> id(std::string_view token) const;
  // The token of `id`; null for an id no token has.
  const std::string* token(int32_t id) const;
  // One past the largest id.
  int32_t end_id() const { return static_cast<int32_t>(tokens_.size()); }

 private:
  struct Merge {
    int32_t rank, merged;
  };
  static uint64_t pair_key(int32_t left, int32_t right) {
    return static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32 | static_cast<uint32_t>(right);
  }
  void initial_symbols(std::string_view word, std::vector<int32_t>& ids) const;

  std::vector<std::string> tokens_;
  // Keys view tokens_, which is not resized after construction (one copy of a 100k-token
  // vocabulary instead of two).
  std::unordered_map<std::string_view, int32_t> ids_;
  std::vector<bool> has_token_;
  std::unordered_map<uint64_t, Merge> merges_;
  BpeOptions options_;
  std::optional<int32_t> unk_id_;
  int32_t byte_ids_[256];  // <0xNN> under byte fallback, -1 where the vocabulary lacks one
};

}  // namespace kiln::llm
