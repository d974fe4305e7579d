#include "llm/tokenizer_spm.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <unordered_map>

#include "kiln/error.h"
#include "llm/sentencepiece_model.pb.h"
#include "llm/tokenizer_added_tokens.h"
#include "llm/tokenizer_bpe.h"
#include "llm/tokenizer_config.h"
#include "llm/tokenizer_json.h"
#include "llm/tokenizer_spm_normalize.h"
#include "llm/tokenizer_utf8.h"

namespace kiln::llm {
namespace {

using Piece = spm::ModelProto::SentencePiece;

[[noreturn]] void fail(const std::string& path, const std::string& problem, ErrorCode code = ErrorCode::InvalidModel) {
  throw Error(code, path + ": " + problem);
}

std::string piece_at(int i, const std::string& piece) { return "pieces[" + std::to_string(i) + "] '" + piece + "'"; }

bool is_one_code_point(std::string_view piece) {
  return !piece.empty() && utf8_sequence_length(piece, 0) == piece.size();
}

// Pieces that SentencePiece's BPE may build by merging two symbols (its "pieces_" map); the others
// (unknown, control, byte) are only ever whole input characters or fallbacks.
bool is_mergeable(Piece::Type type) {
  return type == Piece::NORMAL || type == Piece::USER_DEFINED || type == Piece::UNUSED;
}

// Checks what the rest of this file relies on and returns each id's piece type.
std::vector<Piece::Type> checked_piece_types(const spm::ModelProto& proto, const std::string& path) {
  const int n = proto.pieces_size();
  if (n == 0) fail(path, "has no pieces (not a SentencePiece model?)");
  const spm::TrainerSpec& trainer = proto.trainer_spec();
  if (trainer.model_type() != spm::TrainerSpec::BPE)
    fail(path, "trainer_spec.model_type is " + spm::TrainerSpec::ModelType_Name(trainer.model_type()) +
                   "; Kiln reads SentencePiece BPE models (as Llama 2, TinyLlama and Mistral ship)",
         ErrorCode::NotImplemented);
  if (trainer.treat_whitespace_as_suffix())
    fail(path, "trainer_spec.treat_whitespace_as_suffix is not supported", ErrorCode::NotImplemented);
  for (const auto& [field, spec] : {std::pair{"normalizer_spec", &proto.normalizer_spec()},
                                    std::pair{"denormalizer_spec", &proto.denormalizer_spec()}})
    if (!spec->precompiled_charsmap().empty())
      fail(path, std::string(field) + ": the character map of normalization rule '" + spec->name() +
                     "' is not supported (Kiln reads the 'identity' rule Llama 2 and Mistral use)",
           ErrorCode::NotImplemented);

  if (n > kMaxTokenId + 1) fail(path, std::to_string(n) + " pieces are more than any vocabulary Kiln reads");
  std::vector<Piece::Type> types(static_cast<size_t>(n));
  std::unordered_map<std::string_view, int> seen;
  bool has_byte[256] = {};
  int unk = -1;
  for (int i = 0; i < n; ++i) {
    const Piece& p = proto.pieces(i);
    const std::string& piece = p.piece();
    if (piece.empty()) fail(path, "pieces[" + std::to_string(i) + "] is empty");
    if (find_invalid_utf8(piece) != std::string::npos) fail(path, "pieces[" + std::to_string(i) + "] is not valid UTF-8");
    if (const auto [it, fresh] = seen.emplace(piece, i); !fresh)
      fail(path, piece_at(i, piece) + " repeats pieces[" + std::to_string(it->second) + "]");
    if (std::isnan(p.score())) fail(path, piece_at(i, piece) + " has a score that is not a number");
    types[static_cast<size_t>(i)] = p.type();
    switch (p.type()) {
      case Piece::UNKNOWN:
        if (unk >= 0) fail(path, piece_at(i, piece) + " is a second unknown piece after pieces[" + std::to_string(unk) + "]");
        unk = i;
        break;
      case Piece::BYTE: {
        const int byte = fallback_byte(piece);
        if (byte < 0) fail(path, piece_at(i, piece) + " is a byte piece but not <0x00> ... <0xFF>");
        if (!trainer.byte_fallback()) fail(path, piece_at(i, piece) + " is a byte piece but trainer_spec.byte_fallback is off");
        has_byte[byte] = true;
        break;
      }
      case Piece::UNUSED:
        // SentencePiece splits an unused piece that BPE built back into the pair that made it.
        if (!is_one_code_point(piece))
          fail(path, piece_at(i, piece) + ": unused pieces of several characters are not supported", ErrorCode::NotImplemented);
        break;
      default:
        break;
    }
  }
  if (unk < 0) fail(path, "has no unknown piece (type UNKNOWN)");
  if (trainer.byte_fallback()) {
    const int missing = static_cast<int>(std::count(std::begin(has_byte), std::end(has_byte), false));
    if (missing > 0) {
      const int first = static_cast<int>(std::find(std::begin(has_byte), std::end(has_byte), false) - std::begin(has_byte));
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", first);
      fail(path, "trainer_spec.byte_fallback is on but " + std::to_string(missing) + " of the 256 byte pieces are missing (" +
                     name + " the first)");
    }
  }
  for (const auto& [field, id] : {std::pair{"bos_id", trainer.bos_id()}, std::pair{"eos_id", trainer.eos_id()},
                                  std::pair{"pad_id", trainer.pad_id()}})
    if (id < -1 || id >= n)
      fail(path, std::string("trainer_spec.") + field + " " + std::to_string(id) + " is not a piece (there are " +
                     std::to_string(n) + ")");
  return types;
}

// SentencePiece's BPE merges, at each step, the adjacent pair whose concatenation is a mergeable
// piece of the highest score, the leftmost among equals. As merges by rank that is: every split of
// a mergeable piece into two symbols that can occur, ranked by the piece's score, equal scores
// sharing a rank (the model then takes the leftmost).
BpeModel bpe_model(const spm::ModelProto& proto, const std::vector<Piece::Type>& types, const std::string& path) {
  const int n = proto.pieces_size();
  std::vector<std::pair<std::string, int32_t>> vocab;
  vocab.reserve(static_cast<size_t>(n));
  std::unordered_map<std::string_view, int> ids;
  std::vector<float> scores;
  for (int i = 0; i < n; ++i) {
    const std::string& piece = proto.pieces(i).piece();
    vocab.emplace_back(piece, i);
    ids.emplace(piece, i);
    if (is_mergeable(types[static_cast<size_t>(i)])) scores.push_back(proto.pieces(i).score());
  }
  std::sort(scores.begin(), scores.end(), std::greater<>());
  scores.erase(std::unique(scores.begin(), scores.end()), scores.end());
  const auto can_be_symbol = [&](std::string_view s) {
    const auto it = ids.find(s);
    return it != ids.end() && (is_mergeable(types[static_cast<size_t>(it->second)]) || is_one_code_point(s));
  };
  std::vector<std::pair<std::string, std::string>> merges;
  std::vector<int32_t> ranks;
  for (int i = 0; i < n; ++i) {
    const std::string& piece = proto.pieces(i).piece();
    if (!is_mergeable(types[static_cast<size_t>(i)])) continue;
    const auto rank = static_cast<int32_t>(
        std::lower_bound(scores.begin(), scores.end(), proto.pieces(i).score(), std::greater<>()) - scores.begin());
    for (size_t cut = utf8_sequence_length(piece, 0); cut < piece.size(); cut += utf8_sequence_length(piece, cut)) {
      const std::string_view whole(piece), left = whole.substr(0, cut), right = whole.substr(cut);
      if (!can_be_symbol(left) || !can_be_symbol(right)) continue;
      merges.emplace_back(left, right);
      ranks.push_back(rank);
    }
  }
  BpeOptions options;
  const auto unk = std::find(types.begin(), types.end(), Piece::UNKNOWN) - types.begin();
  options.unk_token = proto.pieces(static_cast<int>(unk)).piece();
  options.fuse_unk = true;  // SentencePiece gives a run of unknown characters one <unk>
  options.byte_fallback = proto.trainer_spec().byte_fallback();
  return BpeModel(std::move(vocab), merges, std::move(options), path, ranks);
}

std::optional<int32_t> id_or_none(int32_t id) { return id >= 0 ? std::optional<int32_t>(id) : std::nullopt; }

class SpmTokenizer final : public Tokenizer {
 public:
  SpmTokenizer(const spm::ModelProto& proto, const std::string& path, const FramingRule& framing_rule)
      : source_(path), types_(checked_piece_types(proto, path)), model_(bpe_model(proto, types_, path)) {
    const spm::NormalizerSpec& spec = proto.normalizer_spec();
    normalizer_.add_dummy_prefix = spec.add_dummy_prefix();
    normalizer_.remove_extra_whitespaces = spec.remove_extra_whitespaces();
    normalizer_.escape_whitespaces = spec.escape_whitespaces();
    unk_surface_ = proto.trainer_spec().unk_surface();
    for (int i = 0; i < proto.pieces_size(); ++i) {
      const Piece::Type type = types_[static_cast<size_t>(i)];
      if (type != Piece::CONTROL && type != Piece::UNKNOWN && type != Piece::USER_DEFINED) continue;
      AddedToken t;
      t.id = i;
      t.content = proto.pieces(i).piece();
      t.special = type != Piece::USER_DEFINED;
      t.normalized = type == Piece::USER_DEFINED;  // SentencePiece matches those in the normalized text
      added_.add(std::move(t));
    }
    framing_.bos = id_or_none(proto.trainer_spec().bos_id());
    framing_.eos = id_or_none(proto.trainer_spec().eos_id());
    // Llama's tokenizers put BOS before a text, and no EOS after it, unless the config says otherwise.
    if (framing_.bos) framing_.prefix.push_back(*framing_.bos);
    framing_rule([this](std::string_view token) { return token_to_id(token); }, framing_);
  }

  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens) const override {
    std::vector<int32_t> ids;
    if (add_special_tokens) ids = framing_.prefix;
    added_.encode(
        text, [this](std::string_view section) { return normalizer_.apply(section); },
        [this](std::string_view piece, bool, std::vector<int32_t>& out) { model_.encode(piece, out); }, ids);
    if (add_special_tokens) ids.insert(ids.end(), framing_.suffix.begin(), framing_.suffix.end());
    return ids;
  }

  int32_t vocab_size() const override { return model_.end_id(); }
  std::optional<int32_t> token_to_id(std::string_view token) const override { return model_.id(token); }

  std::string id_to_token(int32_t id) const override {
    if (const std::string* token = model_.token(id)) return *token;
    throw Error(ErrorCode::InvalidArgument, source_ + ": no token has id " + std::to_string(id) +
                                                " (the vocabulary has " + std::to_string(vocab_size()) + ")");
  }

  std::optional<int32_t> bos_id() const override { return framing_.bos; }
  std::optional<int32_t> eos_id() const override { return framing_.eos; }
  bool is_special(int32_t id) const override { return type_of(id) == Piece::CONTROL; }

  // SentencePiece's decoding: byte pieces are their byte, <unk> is unk_surface, "▁" is a space, and
  // the first piece that begins the text loses its leading "▁" (the dummy prefix; every such piece
  // while the text is still empty when extra whitespace is removed). A control piece, which
  // SentencePiece never shows, is its own text when special tokens are not skipped.
  void append_decoded(int32_t id, DecodeState& state, std::string& bytes) const override {
    const Piece::Type type = type_of(id);
    std::string_view piece = *model_.token(id);
    const size_t before = bytes.size();
    if (type == Piece::BYTE) {
      bytes += static_cast<char>(fallback_byte(piece));
    } else if (type == Piece::UNKNOWN) {
      bytes += unk_surface_;
    } else if (type == Piece::CONTROL) {
      bytes += piece;
    } else {
      const bool strips = normalizer_.add_dummy_prefix || normalizer_.remove_extra_whitespaces;
      if (strips && !state.started && (normalizer_.remove_extra_whitespaces || state.stripped == 0) &&
          piece.starts_with(kSpmSpace)) {
        piece.remove_prefix(kSpmSpace.size());
        ++state.stripped;
      }
      for (size_t pos = 0; pos < piece.size();) {
        const size_t space = piece.find(kSpmSpace, pos);
        bytes.append(piece.substr(pos, space - pos));
        if (space == std::string_view::npos) break;
        bytes += ' ';
        pos = space + kSpmSpace.size();
      }
    }
    ++state.tokens;
    state.started = state.started || bytes.size() > before;
  }

 private:
  Piece::Type type_of(int32_t id) const {
    if (!model_.token(id)) id_to_token(id);  // throws, naming the id
    return types_[static_cast<size_t>(id)];
  }

  std::string source_;
  std::vector<Piece::Type> types_;  // by id
  BpeModel model_;
  SpmNormalizer normalizer_;
  // Control pieces and <unk>, matched in the input as tokenizer.json's special tokens are
  // (SentencePiece itself would spell "</s>" out of characters), and user-defined pieces, matched
  // in the normalized text as SentencePiece does.
  AddedTokens added_;
  std::string unk_surface_;
  SpecialTokenFraming framing_;
};

}  // namespace

std::unique_ptr<Tokenizer> load_spm_tokenizer(const std::string& bytes, const std::string& path) {
  return load_spm_tokenizer(bytes, path, tokenizer_config_rule(ModelFiles::directory(parent_directory(path))));
}

std::unique_ptr<Tokenizer> load_spm_tokenizer(const std::string& bytes, const std::string& path,
                                              const FramingRule& framing_rule) {
  if (bytes.size() > kMaxTokenizerFileBytes)
    fail(path, std::to_string(bytes.size()) + " bytes is larger than any tokenizer (" +
                   std::to_string(kMaxTokenizerFileBytes >> 20) + " MB at most)");
  spm::ModelProto proto;
  if (!proto.ParseFromString(bytes))
    fail(path, "neither a tokenizer.json (JSON) nor a SentencePiece tokenizer.model (its protobuf does not parse)");
  return make_spm_tokenizer(proto, path, framing_rule);
}

std::unique_ptr<Tokenizer> make_spm_tokenizer(const spm::ModelProto& proto, const std::string& path,
                                              const FramingRule& framing_rule) {
  return std::make_unique<SpmTokenizer>(proto, path, framing_rule);
}

}  // namespace kiln::llm
