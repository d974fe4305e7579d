#include "llm/tokenizer_sentencepiece.h"

#include <sentencepiece_processor.h>

#include "llm/tokenizer_config.h"
#include "llm/tokenizer_json.h"
#include "llm/tokenizer_utf8.h"

namespace kiln::llm {
namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // ▁, SentencePiece's space
constexpr std::string_view kUnknownSurface = " \xE2\x81\x87 ";  // " ⁇ ", the library's text for <unk>

class SentencePieceTokenizer final : public Tokenizer {
 public:
  SentencePieceTokenizer(const std::string& bytes, const std::string& path) : source_(path) {
    if (bytes.size() > kMaxTokenizerFileBytes) throw Error(ErrorCode::InvalidModel, path + ": larger than any tokenizer");
    const auto status = processor_.LoadFromSerializedProto(bytes);
    if (!status.ok()) throw Error(ErrorCode::InvalidModel, path + ": not a SentencePiece model (" + status.ToString() + ")");
    if (processor_.GetPieceSize() - 1 > kMaxTokenId)
      throw Error(ErrorCode::InvalidModel, path + ": " + std::to_string(processor_.GetPieceSize()) + " pieces is more than any tokenizer has");
    if (processor_.bos_id() >= 0) framing_.bos = processor_.bos_id();
    if (processor_.eos_id() >= 0) framing_.eos = processor_.eos_id();
    // Llama's convention for SentencePiece models, which tokenizer_config.json may override.
    if (framing_.bos) framing_.prefix.push_back(*framing_.bos);
    apply_tokenizer_config(path, [this](std::string_view token) { return token_to_id(token); }, framing_);
    strip_leading_space_ = first_space_is_dropped();
  }

  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens) const override {
    const size_t invalid = find_invalid_utf8(text);
    if (invalid != std::string_view::npos)
      throw Error(ErrorCode::InvalidArgument, "text to encode is not valid UTF-8 at byte " + std::to_string(invalid));
    std::vector<int> pieces;
    const auto status = processor_.Encode(absl::string_view(text.data(), text.size()), &pieces);
    if (!status.ok()) throw Error(ErrorCode::Runtime, source_ + ": SentencePiece encoding failed (" + status.ToString() + ")");
    std::vector<int32_t> ids;
    if (add_special_tokens) ids = framing_.prefix;
    ids.insert(ids.end(), pieces.begin(), pieces.end());
    if (add_special_tokens) ids.insert(ids.end(), framing_.suffix.begin(), framing_.suffix.end());
    return ids;
  }

  int32_t vocab_size() const override { return processor_.GetPieceSize(); }

  std::optional<int32_t> token_to_id(std::string_view token) const override {
    // PieceToId answers unk_id for a piece it does not have.
    const int id = processor_.PieceToId(absl::string_view(token.data(), token.size()));
    if (id < 0 || processor_.IdToPiece(id) != token) return std::nullopt;
    return id;
  }

  std::string id_to_token(int32_t id) const override {
    check(id);
    return processor_.IdToPiece(id);
  }

  std::optional<int32_t> bos_id() const override { return framing_.bos; }
  std::optional<int32_t> eos_id() const override { return framing_.eos; }
  bool is_special(int32_t id) const override {
    return id >= 0 && id < vocab_size() && (processor_.IsControl(id) || processor_.IsUnknown(id));
  }

  // The library's rules: control pieces (<s>, </s>) are no text, <unk> is " ⁇ ", byte pieces are
  // their byte, "▁" is a space, and the text's first piece loses its leading space when the model
  // adds one in front of every text.
  void append_decoded(int32_t id, DecodeState& state, std::string& bytes) const override {
    check(id);
    ++state.tokens;
    if (processor_.IsControl(id)) return;
    if (processor_.IsUnknown(id)) {
      bytes.append(kUnknownSurface);
      state.started = true;
      return;
    }
    const std::string piece = processor_.IdToPiece(id);
    if (processor_.IsByte(id)) {
      bytes += static_cast<char>(std::stoi(piece.substr(3, 2), nullptr, 16));
      state.started = true;
      return;
    }
    std::string_view rest = piece;
    if (!state.started && strip_leading_space_ && rest.substr(0, kSpace.size()) == kSpace) rest.remove_prefix(kSpace.size());
    if (!piece.empty()) state.started = true;
    for (size_t pos = rest.find(kSpace); pos != std::string_view::npos; pos = rest.find(kSpace)) {
      bytes.append(rest.substr(0, pos));
      bytes += ' ';
      rest.remove_prefix(pos + kSpace.size());
    }
    bytes.append(rest);
  }

 private:
  void check(int32_t id) const {
    if (id < 0 || id >= vocab_size())
      throw Error(ErrorCode::InvalidArgument, source_ + ": no token has id " + std::to_string(id) +
                                                  " (the vocabulary has " + std::to_string(vocab_size()) + ")");
  }

  // Whether the library drops the leading space of a text's first piece. Debian's
  // libsentencepiece-dev ships no header for the model's normalizer settings that decide it, so
  // it is read off the library's own decoding of a piece that starts with "▁".
  bool first_space_is_dropped() const {
    for (int id = 0; id < processor_.GetPieceSize(); ++id) {
      if (processor_.IsControl(id) || processor_.IsUnknown(id) || processor_.IsByte(id) || processor_.IsUnused(id)) continue;
      const std::string piece = processor_.IdToPiece(id);
      if (piece.size() > kSpace.size() && piece.compare(0, kSpace.size(), kSpace) == 0)
        return processor_.DecodeIds({id}).compare(0, 1, " ") != 0;
    }
    return true;
  }

  std::string source_;
  sentencepiece::SentencePieceProcessor processor_;
  SpecialTokenFraming framing_;
  bool strip_leading_space_ = true;
};

}  // namespace

std::unique_ptr<Tokenizer> load_sentencepiece_tokenizer(const std::string& bytes, const std::string& path) {
  return std::make_unique<SentencePieceTokenizer>(bytes, path);
}

}  // namespace kiln::llm
