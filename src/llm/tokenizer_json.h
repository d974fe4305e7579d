// Reading tokenizer.json: a streaming parse that keeps the vocabulary and the merges (nine in ten
// of a large file's bytes) in flat lists instead of a JSON tree, and typed access to the rest where
// every error names the file and the JSON path of the item that is wrong.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kiln/error.h"

namespace kiln::llm {

// Sizes past these are not a tokenizer: the largest published vocabularies hold ~260k tokens.
constexpr size_t kMaxTokenizerFileBytes = size_t{256} << 20;
constexpr int64_t kMaxTokenId = (int64_t{1} << 24) - 1;
constexpr size_t kMaxTokenBytes = 4096;

// A JSON value with the file and path that errors name ("tokenizer.json: model.merges[3]: ...").
class JsonAt {
 public:
  JsonAt(const nlohmann::json& value, std::string source, std::string path)
      : value_(&value), source_(std::move(source)), path_(std::move(path)) {}

  const nlohmann::json& value() const { return *value_; }
  std::string where() const { return path_.empty() ? source_ : source_ + ": " + path_; }
  [[noreturn]] void fail(const std::string& problem, ErrorCode code = ErrorCode::InvalidModel) const;

  // A member, absent when missing or null; fails when this is not an object.
  std::optional<JsonAt> find(const std::string& key) const;
  JsonAt get(const std::string& key) const;  // fails when missing
  // The elements; fails when this is not an array.
  std::vector<JsonAt> elements() const;

  std::string string() const;
  bool boolean() const;
  int64_t integer() const;
  std::string string_or(const std::string& key, const std::string& fallback) const;
  bool boolean_or(const std::string& key, bool fallback) const;
  // A token id: an integer in [0, kMaxTokenId].
  int32_t token_id() const;

 private:
  const nlohmann::json* value_;
  std::string source_, path_;
};

struct TokenizerJson {
  nlohmann::json root;  // model.vocab and model.merges left out
  std::vector<std::pair<std::string, int32_t>> vocab;
  std::vector<std::pair<std::string, std::string>> merges;
  bool has_vocab = false, has_merges = false;
};

// Throws Error(InvalidModel) naming `source` and the JSON path for text that is not JSON, nests too
// deep, or has a vocabulary entry or merge of the wrong form.
TokenizerJson parse_tokenizer_json(const std::string& text, const std::string& source);

}  // namespace kiln::llm
