// Tokenizers for the LLM runtime, behind one interface: Hugging Face tokenizer.json files with a
// BPE model (byte-level BPE as in GPT-2, Llama 3 and Qwen2/3; SentencePiece-style BPE with byte
// fallback as in Llama 2, TinyLlama and Mistral), SentencePiece tokenizer.model files with a BPE
// model (those of Llama 2, TinyLlama and Mistral), and the same model in a GGUF file's metadata.
//
// A Tokenizer is immutable once loaded: encode and decode may be called from several threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "llm/tokenizer_decoder.h"

namespace kiln::llm {

class ModelFiles;

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // `path`: a tokenizer.json, a tokenizer.model, a GGUF file (its tokenizer.ggml.* metadata:
  // gguf_tokenizer.h), an LLM engine file (llm_engine.h), or a model directory holding tokenizer.json or tokenizer.model (tokenizer.json
  // preferred). A tokenizer_config.json beside it, when there is one, gives add_bos_token,
  // add_eos_token, bos_token and eos_token. Throws Error(Io) when nothing there can be read,
  // Error(InvalidModel) for a malformed file (naming it and the JSON path, or the protobuf field or
  // piece, of what is wrong), and Error(NotImplemented) for a valid tokenizer that uses what Kiln
  // does not support.
  static std::unique_ptr<Tokenizer> load(const std::string& path);
  // The tokenizer of a model's files (model_files.h): its GGUF metadata, else its tokenizer.json
  // or tokenizer.model (tokenizer.json preferred) with its tokenizer_config.json.
  static std::unique_ptr<Tokenizer> load(const ModelFiles& files);

  // The ids of `text`, which must be valid UTF-8 (Error(InvalidArgument) naming the byte offset
  // otherwise). Added tokens written in the text (such as "<|im_start|>") are matched first;
  // with `add_special_tokens` the tokens the tokenizer puts around a text (BOS, EOS) are added.
  virtual std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = true) const = 0;

  // The text of `ids`. Bytes that do not form UTF-8 (a sequence cut in the middle of a character)
  // become U+FFFD. Throws Error(InvalidArgument) for an id outside the vocabulary.
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;

  // One past the largest token id.
  virtual int32_t vocab_size() const = 0;
  virtual std::optional<int32_t> token_to_id(std::string_view token) const = 0;
  // The token's text as the vocabulary writes it (e.g. "Ġthe", "▁the", "<0x0A>"); throws
  // Error(InvalidArgument) for an id no token has.
  virtual std::string id_to_token(int32_t id) const = 0;
  virtual std::optional<int32_t> bos_id() const = 0;
  virtual std::optional<int32_t> eos_id() const = 0;
  // Special tokens (BOS, EOS, chat markers) are what decode skips with skip_special_tokens.
  virtual bool is_special(int32_t id) const = 0;

  // Appends the bytes token `id` adds to the text decoded so far, which `state` describes. decode
  // and StreamingDecoder are both this, so that streamed text is decoded text.
  virtual void append_decoded(int32_t id, DecodeState& state, std::string& bytes) const = 0;
};

// Decodes ids one at a time as they are generated, returning only whole UTF-8 characters: a
// character whose bytes span several tokens comes out with its last byte. Everything push and
// finish return, concatenated, is decode(all ids, skip_special_tokens).
class StreamingDecoder {
 public:
  explicit StreamingDecoder(const Tokenizer& tokenizer, bool skip_special_tokens = true)
      : tokenizer_(tokenizer), skip_special_tokens_(skip_special_tokens) {}

  // The text that `id` completes (often empty while a character is incomplete).
  std::string push(int32_t id);
  // What is still held back, as U+FFFD: the ids ended inside a character.
  std::string finish();

 private:
  const Tokenizer& tokenizer_;
  bool skip_special_tokens_;
  DecodeState state_;
  std::string pending_;  // bytes of an incomplete character
};

}  // namespace kiln::llm
