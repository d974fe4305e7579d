#include "llm/tokenizer_json.h"

namespace kiln::llm {

using json = nlohmann::json;

void JsonAt::fail(const std::string& problem, ErrorCode code) const { throw Error(code, where() + ": " + problem); }

std::optional<JsonAt> JsonAt::find(const std::string& key) const {
  if (!value_->is_object()) fail("must be an object");
  const auto it = value_->find(key);
  if (it == value_->end() || it->is_null()) return std::nullopt;
  return JsonAt(*it, source_, path_.empty() ? key : path_ + "." + key);
}

JsonAt JsonAt::get(const std::string& key) const {
  std::optional<JsonAt> v = find(key);
  if (!v) fail("has no '" + key + "'");
  return *v;
}

std::vector<JsonAt> JsonAt::elements() const {
  if (!value_->is_array()) fail("must be a list");
  std::vector<JsonAt> out;
  out.reserve(value_->size());
  for (size_t i = 0; i < value_->size(); ++i) out.emplace_back((*value_)[i], source_, path_ + "[" + std::to_string(i) + "]");
  return out;
}

std::string JsonAt::string() const {
  if (!value_->is_string()) fail("must be a string");
  return value_->get<std::string>();
}

bool JsonAt::boolean() const {
  if (!value_->is_boolean()) fail("must be true or false");
  return value_->get<bool>();
}

int64_t JsonAt::integer() const {
  if (!value_->is_number_integer()) fail("must be an integer");
  return value_->get<int64_t>();
}

std::string JsonAt::string_or(const std::string& key, const std::string& fallback) const {
  const std::optional<JsonAt> v = find(key);
  return v ? v->string() : fallback;
}

bool JsonAt::boolean_or(const std::string& key, bool fallback) const {
  const std::optional<JsonAt> v = find(key);
  return v ? v->boolean() : fallback;
}

int32_t JsonAt::token_id() const {
  const int64_t id = integer();
  if (id < 0 || id > kMaxTokenId) fail("token id " + std::to_string(id) + " is outside [0, " + std::to_string(kMaxTokenId) + "]");
  return static_cast<int32_t>(id);
}

namespace {

constexpr size_t kMaxJsonDepth = 64;

// Builds the JSON tree as nlohmann's own parser would, except below model.vocab and model.merges,
// whose entries go straight into flat lists (a tree of ~400k small values costs ten times the
// parse itself).
class Reader : public nlohmann::json_sax<json> {
 public:
  Reader(TokenizerJson& out, const std::string& source) : out_(out), source_(source) {}

  bool null() override { return value(json(nullptr)); }
  bool boolean(bool v) override { return value(json(v)); }
  bool number_integer(number_integer_t v) override {
    if (in_vocab()) return vocab_entry(v);
    return value(json(v));
  }
  bool number_unsigned(number_unsigned_t v) override {
    if (in_vocab()) return vocab_entry(v > static_cast<uint64_t>(kMaxTokenId) ? -1 : static_cast<int64_t>(v));
    return value(json(v));
  }
  bool number_float(number_float_t v, const string_t&) override {
    if (in_vocab()) fail_vocab("must be an integer id");
    return value(json(v));
  }
  bool string(string_t& v) override {
    if (in_vocab()) fail_vocab("must be an integer id");
    if (in_merges()) return merge_string(v);
    return value(json(std::move(v)));
  }
  bool binary(binary_t&) override { return true; }
  bool key(string_t& k) override {
    key_ = std::move(k);
    if (in_vocab() && key_.size() > kMaxTokenBytes) fail_vocab("is longer than " + std::to_string(kMaxTokenBytes) + " bytes");
    return true;
  }
  bool start_object(std::size_t) override {
    if (in_vocab()) fail_vocab("must be an integer id");
    if (in_merges()) fail_merge("must be \"a b\" or [\"a\", \"b\"]");
    if (path_is({"model"}) && key_ == "vocab") return open_list(List::Vocab);
    return open(json::object());
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override {
    if (in_vocab()) fail_vocab("must be an integer id");
    if (in_merges()) {
      if (pair_open_) fail_merge("must be \"a b\" or [\"a\", \"b\"]");
      pair_open_ = true;
      pair_.clear();
      return true;
    }
    if (path_is({"model"}) && key_ == "merges") return open_list(List::Merges);
    return open(json::array());
  }
  bool end_array() override {
    if (in_merges() && pair_open_) {
      if (pair_.size() != 2) fail_merge("must be a pair of strings");
      out_.merges.emplace_back(std::move(pair_[0]), std::move(pair_[1]));
      pair_open_ = false;
      return true;
    }
    return close();
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) override {
    throw Error(ErrorCode::InvalidModel, source_ + ": not JSON at byte " + std::to_string(position) + " (" + e.what() + ")");
  }

 private:
  enum class List { None, Vocab, Merges };
  struct Frame {
    json* value;     // null for the vocabulary's and the merges' frames
    std::string key;  // this frame's key in its parent object
  };

  bool in_vocab() const { return list_ == List::Vocab && stack_.size() == list_depth_; }
  bool in_merges() const { return list_ == List::Merges && stack_.size() == list_depth_; }
  bool path_is(std::initializer_list<const char*> keys) const {
    if (stack_.size() != keys.size() + 1) return false;
    size_t i = 1;
    for (const char* k : keys)
      if (stack_[i++].key != k) return false;
    return true;
  }

  [[noreturn]] void fail_vocab(const std::string& problem) const {
    throw Error(ErrorCode::InvalidModel, source_ + ": model.vocab[" + json(key_).dump() + "]: " + problem);
  }
  [[noreturn]] void fail_merge(const std::string& problem) const {
    throw Error(ErrorCode::InvalidModel,
                source_ + ": model.merges[" + std::to_string(out_.merges.size()) + "]: " + problem);
  }

  bool vocab_entry(int64_t id) {
    if (id < 0 || id > kMaxTokenId)
      fail_vocab("id " + std::to_string(id) + " is outside [0, " + std::to_string(kMaxTokenId) + "]");
    out_.vocab.emplace_back(std::move(key_), static_cast<int32_t>(id));
    return true;
  }

  bool merge_string(std::string& v) {
    if (v.size() > 2 * kMaxTokenBytes + 1) fail_merge("is longer than two tokens may be");
    if (pair_open_) {
      if (pair_.size() == 2) fail_merge("must be a pair of strings");
      pair_.push_back(std::move(v));
      return true;
    }
    const size_t space = v.find(' ');
    if (space == std::string::npos || v.find(' ', space + 1) != std::string::npos || space == 0 || space + 1 == v.size())
      fail_merge("\"" + v + "\" must be two tokens separated by one space");
    out_.merges.emplace_back(v.substr(0, space), v.substr(space + 1));
    return true;
  }

  // Adds a scalar to the current container.
  bool value(json v) {
    if (in_vocab()) fail_vocab("must be an integer id");
    if (in_merges()) fail_merge("must be \"a b\" or [\"a\", \"b\"]");
    place(std::move(v));
    return true;
  }

  json* place(json v) {
    if (stack_.empty()) {
      out_.root = std::move(v);
      return &out_.root;
    }
    json& parent = *stack_.back().value;
    if (parent.is_object()) return &(parent[key_] = std::move(v));
    parent.push_back(std::move(v));
    return &parent.back();
  }

  bool open(json container) {
    if (stack_.size() >= kMaxJsonDepth) throw Error(ErrorCode::InvalidModel, source_ + ": nests deeper than " + std::to_string(kMaxJsonDepth));
    const std::string key = stack_.empty() || !stack_.back().value->is_object() ? std::string() : key_;
    json* placed = place(std::move(container));
    stack_.push_back({placed, key});
    return true;
  }

  bool open_list(List list) {
    if (list == List::Vocab) out_.has_vocab = true;
    if (list == List::Merges) out_.has_merges = true;
    list_ = list;
    stack_.push_back({nullptr, key_});
    list_depth_ = stack_.size();
    return true;
  }

  bool close() {
    if (!stack_.empty() && !stack_.back().value) list_ = List::None;
    stack_.pop_back();
    return true;
  }

  TokenizerJson& out_;
  const std::string& source_;
  std::vector<Frame> stack_;
  std::string key_;
  List list_ = List::None;
  size_t list_depth_ = 0;
  bool pair_open_ = false;
  std::vector<std::string> pair_;
};

}  // namespace

TokenizerJson parse_tokenizer_json(const std::string& text, const std::string& source) {
  if (text.size() > kMaxTokenizerFileBytes)
    throw Error(ErrorCode::InvalidModel, source + ": " + std::to_string(text.size()) + " bytes is larger than any tokenizer (" +
                                             std::to_string(kMaxTokenizerFileBytes >> 20) + " MB at most)");
  TokenizerJson out;
  Reader reader(out, source);
  json::sax_parse(text, &reader);
  if (!out.root.is_object()) throw Error(ErrorCode::InvalidModel, source + ": not a JSON object");
  return out;
}

}  // namespace kiln::llm
