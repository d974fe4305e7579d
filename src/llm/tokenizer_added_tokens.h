// tokenizer.json's "added_tokens": tokens matched in the text before it is normalized and split
// into words (special tokens such as "<|im_start|>" and "</s>", and tokens a model was fine-tuned
// with), leftmost first and longest first where several start at one place.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kiln::llm {

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool special = false;
  bool lstrip = false;       // the match takes the whitespace before it
  bool rstrip = false;       // and after it
  bool single_word = false;  // matches only with no word character on either side
  bool normalized = false;   // matched in the normalized text rather than the input
};

class AddedTokens {
 public:
  // `content` is not empty.
  void add(AddedToken token);

  // A stretch of text: an added token's match (id >= 0), or text between matches (id < 0).
  struct Segment {
    std::string_view text;
    int32_t id = -1;
  };
  // Cuts `text` at the matches of the tokens whose `normalized` flag is `normalized`.
  std::vector<Segment> split(std::string_view text, bool normalized) const;
  bool any(bool normalized) const { return normalized ? normalized_count_ > 0 : tokens_.size() > normalized_count_; }

  // The ids of `text`, both tokenizer formats' way: the tokens matched in the input, then in each
  // stretch between them the tokens matched in `normalize`'s text, and `encode_piece` for the text
  // between those (`first`: whether that text starts the input). Throws Error(InvalidArgument)
  // naming the byte offset when `text` is not valid UTF-8.
  using Normalize = std::function<std::string(std::string_view)>;
  using EncodePiece = std::function<void(std::string_view piece, bool first, std::vector<int32_t>& ids)>;
  void encode(std::string_view text, const Normalize& normalize, const EncodePiece& encode_piece,
              std::vector<int32_t>& ids) const;

  const AddedToken* find(int32_t id) const;
  const AddedToken* find(std::string_view content) const;
  int32_t end_id() const { return end_id_; }

 private:
  const AddedToken* match_at(std::string_view text, size_t pos, bool normalized) const;
  std::vector<AddedToken> tokens_;
  std::unordered_map<int32_t, size_t> by_id_;
  std::unordered_map<std::string, size_t> by_content_;
  std::array<std::vector<size_t>, 256> by_first_byte_;  // longest first
  size_t normalized_count_ = 0;
  int32_t end_id_ = 0;
};

}  // namespace kiln::llm
