#include "llm/tokenizer_hf.h"

#include "llm/tokenizer_added_tokens.h"
#include "llm/tokenizer_bpe.h"
#include "llm/tokenizer_config.h"
#include "llm/tokenizer_json.h"
#include "llm/tokenizer_normalize.h"
#include "llm/tokenizer_pretokenize.h"
#include "llm/tokenizer_utf8.h"

namespace kiln::llm {
namespace {

BpeModel read_model(TokenizerJson& file, const JsonAt& model, const std::string& path) {
  const std::string type = model.string_or("type", "BPE");
  if (type != "BPE")
    model.get("type").fail("model '" + type + "' is not supported (BPE)", ErrorCode::NotImplemented);
  if (!file.has_vocab) model.get("vocab").fail("must be an object of token: id");
  if (!file.has_merges) model.get("merges").fail("must be a list");
  if (const std::optional<JsonAt> dropout = model.find("dropout"))
    if (!dropout->value().is_number() || dropout->value().get<double>() != 0.0)
      dropout->fail("BPE dropout is not supported (Kiln encodes deterministically)", ErrorCode::NotImplemented);
  for (const char* affix : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (!model.string_or(affix, "").empty())
      model.get(affix).fail("is not supported (byte-level and SentencePiece-style BPE use none)", ErrorCode::NotImplemented);
  BpeOptions options;
  if (const std::optional<JsonAt> unk = model.find("unk_token")) options.unk_token = unk->string();
  options.fuse_unk = model.boolean_or("fuse_unk", false);
  options.byte_fallback = model.boolean_or("byte_fallback", false);
  options.ignore_merges = model.boolean_or("ignore_merges", false);
  return BpeModel(std::move(file.vocab), file.merges, std::move(options), path);
}

AddedTokens read_added_tokens(const JsonAt& root) {
  AddedTokens added;
  const std::optional<JsonAt> list = root.find("added_tokens");
  if (!list) return added;
  for (const JsonAt& entry : list->elements()) {
    AddedToken t;
    t.id = entry.get("id").token_id();
    t.content = entry.get("content").string();
    if (t.content.empty()) entry.get("content").fail("must not be empty");
    if (find_invalid_utf8(t.content) != std::string::npos) entry.get("content").fail("is not valid UTF-8");
    t.special = entry.boolean_or("special", false);
    t.lstrip = entry.boolean_or("lstrip", false);
    t.rstrip = entry.boolean_or("rstrip", false);
    t.single_word = entry.boolean_or("single_word", false);
    t.normalized = entry.boolean_or("normalized", !t.special);
    added.add(std::move(t));
  }
  return added;
}

// The ids of a TemplateProcessing special token, from its "special_tokens" table.
std::vector<int32_t> template_token_ids(const JsonAt& processor, const JsonAt& item) {
  const std::string name = item.get("id").string();
  const std::optional<JsonAt> table = processor.find("special_tokens");
  const std::optional<JsonAt> entry = table ? table->find(name) : std::nullopt;
  if (!entry) item.get("id").fail("'" + name + "' is not in special_tokens");
  std::vector<int32_t> ids;
  for (const JsonAt& id : entry->get("ids").elements()) ids.push_back(id.token_id());
  return ids;
}

void read_post_processor(const JsonAt& spec, SpecialTokenFraming& framing) {
  const std::string type = spec.get("type").string();
  if (type == "Sequence") {
    for (const JsonAt& step : spec.get("processors").elements()) read_post_processor(step, framing);
  } else if (type == "TemplateProcessing") {
    bool seen_text = false;
    for (const JsonAt& item : spec.get("single").elements()) {
      if (const std::optional<JsonAt> special = item.find("SpecialToken")) {
        std::vector<int32_t>& side = seen_text ? framing.suffix : framing.prefix;
        for (int32_t id : template_token_ids(spec, *special)) side.push_back(id);
      } else if (item.find("Sequence")) {
        if (seen_text) item.fail("a single-text template holds one Sequence");
        seen_text = true;
      } else {
        item.fail("must be a SpecialToken or a Sequence");
      }
    }
  } else if (type == "BertProcessing" || type == "RobertaProcessing") {
    for (const auto& [field, side] : {std::pair{"cls", &framing.prefix}, std::pair{"sep", &framing.suffix}}) {
      const std::vector<JsonAt> pair = spec.get(field).elements();
      if (pair.size() != 2) spec.get(field).fail("must be [token, id]");
      side->push_back(pair[1].token_id());
    }
  } else if (type != "ByteLevel") {  // ByteLevel post-processing only adjusts offsets
    spec.get("type").fail("post_processor '" + type +
                              "' is not supported (TemplateProcessing, ByteLevel, BertProcessing, RobertaProcessing, Sequence)",
                          ErrorCode::NotImplemented);
  }
}

class HfTokenizer final : public Tokenizer {
 public:
  HfTokenizer(TokenizerJson& file, const std::string& path, const FramingRule& framing_rule)
      : source_(path),
        model_(read_model(file, JsonAt(file.root, path, "").get("model"), path)),
        added_(read_added_tokens(JsonAt(file.root, path, ""))) {
    const JsonAt root(file.root, path, "");
    if (const std::optional<JsonAt> n = root.find("normalizer")) normalizer_ = Normalizer::from_json(*n);
    if (const std::optional<JsonAt> p = root.find("pre_tokenizer")) pre_tokenizer_ = PreTokenizer::from_json(*p);
    if (const std::optional<JsonAt> d = root.find("decoder")) decoder_ = TokenDecoder::from_json(*d);
    if (const std::optional<JsonAt> p = root.find("post_processor")) read_post_processor(*p, framing_);
    // Without a tokenizer_config.json, a template's one token before the text is BOS, after it EOS.
    if (framing_.prefix.size() == 1) framing_.bos = framing_.prefix[0];
    if (framing_.suffix.size() == 1) framing_.eos = framing_.suffix[0];
    framing_rule([this](std::string_view token) { return token_to_id(token); }, framing_);
    for (int32_t id : framing_.prefix) check_id(id);
    for (int32_t id : framing_.suffix) check_id(id);
  }

  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens) const override {
    std::vector<int32_t> ids;
    if (add_special_tokens) ids = framing_.prefix;
    added_.encode(
        text, [this](std::string_view section) { return normalizer_.apply(std::string(section)); },
        [this](std::string_view piece, bool first, std::vector<int32_t>& out) {
          for (const std::string& word : pre_tokenizer_.split(piece, first)) model_.encode(word, out);
        },
        ids);
    if (add_special_tokens) ids.insert(ids.end(), framing_.suffix.begin(), framing_.suffix.end());
    return ids;
  }

  int32_t vocab_size() const override { return std::max(model_.end_id(), added_.end_id()); }

  std::optional<int32_t> token_to_id(std::string_view token) const override {
    if (const AddedToken* t = added_.find(token)) return t->id;
    return model_.id(token);
  }

  std::string id_to_token(int32_t id) const override {
    if (const AddedToken* t = added_.find(id)) return t->content;
    if (const std::string* token = model_.token(id)) return *token;
    throw Error(ErrorCode::InvalidArgument, source_ + ": no token has id " + std::to_string(id) +
                                                " (the vocabulary has " + std::to_string(vocab_size()) + ")");
  }

  std::optional<int32_t> bos_id() const override { return framing_.bos; }
  std::optional<int32_t> eos_id() const override { return framing_.eos; }

  bool is_special(int32_t id) const override {
    const AddedToken* t = added_.find(id);
    return t && t->special;
  }

  void append_decoded(int32_t id, DecodeState& state, std::string& bytes) const override {
    if (const AddedToken* t = added_.find(id)) return decoder_.append(t->content, true, state, bytes);
    const std::string* token = model_.token(id);
    if (!token) id_to_token(id);  // throws, naming the id
    decoder_.append(*token, false, state, bytes);
  }

 private:
  void check_id(int32_t id) const {
    if (!added_.find(id) && !model_.token(id))
      throw Error(ErrorCode::InvalidModel, source_ + ": post_processor: token id " + std::to_string(id) + " is not in the vocabulary");
  }

  std::string source_;
  BpeModel model_;
  AddedTokens added_;
  Normalizer normalizer_;
  PreTokenizer pre_tokenizer_;
  TokenDecoder decoder_;
  SpecialTokenFraming framing_;
};

}  // namespace

std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& text, const std::string& path) {
  return make_hf_tokenizer(text, path, tokenizer_config_rule(ModelFiles::directory(parent_directory(path))));
}

std::unique_ptr<Tokenizer> make_hf_tokenizer(const std::string& text, const std::string& path,
                                             const FramingRule& framing_rule) {
  TokenizerJson file = parse_tokenizer_json(text, path);
  return std::make_unique<HfTokenizer>(file, path, framing_rule);
}

}  // namespace kiln::llm
