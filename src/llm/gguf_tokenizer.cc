#include "llm/gguf_tokenizer.h"

#include <nlohmann/json.hpp>
#include <optional>

#include "kiln/error.h"
#include "llm/sentencepiece_model.pb.h"
#include "llm/tokenizer_hf.h"
#include "llm/tokenizer_spm.h"

namespace kiln::llm {
namespace {

using Piece = spm::ModelProto::SentencePiece;

// Per-token values of `key`, when present: one per token.
template <class Get>
auto per_token(const GgufMetadata& m, const std::string& key, size_t tokens, Get get)
    -> std::optional<decltype(get(key))> {
  if (!m.find(key)) return std::nullopt;
  auto values = get(key);
  if (values.size() != tokens)
    m.fail(key, "has " + std::to_string(values.size()) + " items for " + std::to_string(tokens) + " tokens");
  return values;
}

// tokenizer.ggml.bos_token_id and .eos_token_id, each checked to be one of `tokens`.
struct SpecialIds {
  std::optional<int32_t> bos, eos;
};
SpecialIds special_ids(const GgufMetadata& m, size_t tokens) {
  const auto id = [&](const std::string& key) -> std::optional<int32_t> {
    const std::optional<int64_t> found = m.find_token_id(key, static_cast<int64_t>(tokens));
    if (!found) return std::nullopt;
    return static_cast<int32_t>(*found);
  };
  return {id("tokenizer.ggml.bos_token_id"), id("tokenizer.ggml.eos_token_id")};
}

bool flag(const GgufMetadata& m, const std::string& key, bool absent) { return m.find(key) ? m.get_bool(key) : absent; }

// The token types, checked to be ggml's (1 normal ... 6 byte), when the file has them.
std::optional<std::vector<int64_t>> token_types(const GgufMetadata& m, size_t tokens) {
  const std::string key = "tokenizer.ggml.token_type";
  auto types = per_token(m, key, tokens, [&](const std::string& k) { return m.get_int_array(k); });
  if (types)
    for (size_t i = 0; i < types->size(); ++i)
      if (!Piece::Type_IsValid(static_cast<int>((*types)[i])))
        m.fail(key, "item " + std::to_string(i) + " is " + std::to_string((*types)[i]) +
                         ", not a token type (1 normal ... 6 byte)");
  return types;
}

// BOS before the text and EOS after it as add_bos_token (default `bos_by_default`) and
// add_eos_token (default false) say.
FramingRule metadata_framing(const GgufMetadata& m, SpecialIds ids, bool bos_by_default) {
  const bool add_bos = flag(m, "tokenizer.ggml.add_bos_token", bos_by_default);
  const bool add_eos = flag(m, "tokenizer.ggml.add_eos_token", false);
  return [=](const auto&, SpecialTokenFraming& framing) {
    framing = {.bos = ids.bos, .eos = ids.eos};
    if (add_bos && ids.bos) framing.prefix.push_back(*ids.bos);
    if (add_eos && ids.eos) framing.suffix.push_back(*ids.eos);
  };
}

std::unique_ptr<Tokenizer> sentencepiece_tokenizer(const GgufMetadata& m) {
  const std::vector<std::string> tokens = m.get_string_array("tokenizer.ggml.tokens");
  const auto scores = per_token(m, "tokenizer.ggml.scores", tokens.size(), [&](const std::string& k) { return m.get_float_array(k); });
  const auto types = token_types(m, tokens.size());
  const SpecialIds ids = special_ids(m, tokens.size());

  spm::ModelProto proto;
  spm::TrainerSpec& trainer = *proto.mutable_trainer_spec();
  trainer.set_model_type(spm::TrainerSpec::BPE);
  trainer.set_bos_id(ids.bos.value_or(-1));
  trainer.set_eos_id(ids.eos.value_or(-1));
  trainer.set_pad_id(-1);
  spm::NormalizerSpec& normalizer = *proto.mutable_normalizer_spec();
  normalizer.set_name("identity");
  normalizer.set_add_dummy_prefix(flag(m, "tokenizer.ggml.add_space_prefix", true));
  normalizer.set_remove_extra_whitespaces(false);
  normalizer.set_escape_whitespaces(true);
  for (size_t i = 0; i < tokens.size(); ++i) {
    Piece& piece = *proto.add_pieces();
    piece.set_piece(tokens[i]);
    if (scores) piece.set_score(static_cast<float>((*scores)[i]));
    if (types) {
      piece.set_type(static_cast<Piece::Type>((*types)[i]));
      if (piece.type() == Piece::BYTE) trainer.set_byte_fallback(true);
    }
  }
  return make_spm_tokenizer(proto, m.source(), metadata_framing(m, ids, true));
}

// The pre-tokenizer (and normalizer) of a byte-level BPE, which GGUF names only by
// tokenizer.ggml.pre: the splitting regex of each family's tokenizer.json.
struct BytePairFamily {
  const char* pre;
  const char* split;  // null: GPT-2's own regex inside ByteLevel
  bool nfc, ignore_merges;
};
constexpr BytePairFamily kBytePairFamilies[] = {
    {"gpt-2", nullptr, false, false},
    {"default", nullptr, false, false},
    {"llama-bpe",
     R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
     false, true},
    {"qwen2",
     R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
     true, false},
};

// A "gpt2" tokenizer is a tokenizer.json's byte-level BPE: it is written as one and read by the
// tokenizer.json reader, so both take the same path. Control tokens (type 3) are special added
// tokens and user-defined ones (type 4) plain added tokens, as llama.cpp's converter wrote them.
std::unique_ptr<Tokenizer> byte_pair_tokenizer(const GgufMetadata& m) {
  const std::string pre = m.find("tokenizer.ggml.pre") ? m.get_string("tokenizer.ggml.pre") : "default";
  const BytePairFamily* family = nullptr;
  for (const BytePairFamily& f : kBytePairFamilies)
    if (pre == f.pre) family = &f;
  if (!family) {
    std::string known;
    for (const BytePairFamily& f : kBytePairFamilies) known += std::string(known.empty() ? "" : ", ") + f.pre;
    throw Error(ErrorCode::NotImplemented, m.source() + ": tokenizer.ggml.pre '" + pre +
                                               "' is not a pre-tokenizer Kiln knows (it reads " + known + ")");
  }
  const std::vector<std::string> tokens = m.get_string_array("tokenizer.ggml.tokens");
  const std::vector<std::string> merges = m.get_string_array("tokenizer.ggml.merges");
  const auto types = token_types(m, tokens.size());
  nlohmann::ordered_json vocab = nlohmann::ordered_json::object(), added = nlohmann::ordered_json::array();
  for (size_t i = 0; i < tokens.size(); ++i) {
    const int64_t type = types ? (*types)[i] : static_cast<int64_t>(Piece::NORMAL);
    if (type == Piece::CONTROL || type == Piece::USER_DEFINED)
      added.push_back({{"id", i}, {"content", tokens[i]}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                       {"normalized", false}, {"special", type == Piece::CONTROL}});
    else
      vocab[tokens[i]] = i;
  }
  const nlohmann::ordered_json byte_level = {
      {"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", family->split == nullptr}};
  nlohmann::ordered_json pre_tokenizer = byte_level;
  if (family->split)
    pre_tokenizer = {{"type", "Sequence"},
                     {"pretokenizers",
                      {{{"type", "Split"}, {"pattern", {{"Regex", family->split}}},
                        {"behavior", "Isolated"}, {"invert", false}},
                       byte_level}}};
  const nlohmann::ordered_json file = {
      {"added_tokens", added},
      {"normalizer", family->nfc ? nlohmann::ordered_json{{"type", "NFC"}} : nlohmann::ordered_json()},
      {"pre_tokenizer", pre_tokenizer},
      {"decoder", byte_level},
      {"model", {{"type", "BPE"}, {"ignore_merges", family->ignore_merges}, {"vocab", vocab}, {"merges", merges}}}};
  return make_hf_tokenizer(file.dump(), m.source(), metadata_framing(m, special_ids(m, tokens.size()), false));
}

}  // namespace

std::unique_ptr<Tokenizer> load_gguf_tokenizer(const GgufMetadata& m) {
  const std::string model = m.get_string("tokenizer.ggml.model");
  if (model == "llama") return sentencepiece_tokenizer(m);
  if (model == "gpt2") return byte_pair_tokenizer(m);
  throw Error(ErrorCode::NotImplemented, m.source() + ": tokenizer.ggml.model '" + model +
                                             "' is not read (Kiln reads 'llama', SentencePiece BPE, and 'gpt2', "
                                             "byte-level BPE)");
}

ModelChatTemplate load_gguf_chat_template(const GgufMetadata& m) {
  const std::string key = "tokenizer.chat_template";
  if (!m.find(key)) throw Error(ErrorCode::InvalidModel, m.source() + ": has no " + key);
  const std::vector<std::string> tokens = m.get_string_array("tokenizer.ggml.tokens");
  const SpecialIds ids = special_ids(m, tokens.size());
  const auto text_of = [&](std::optional<int32_t> id) { return id ? tokens[static_cast<size_t>(*id)] : std::string(); };
  return {ChatTemplate::parse(m.get_string(key), m.source() + " " + key), text_of(ids.bos), text_of(ids.eos)};
}

}  // namespace kiln::llm
