// The tokenizer a GGUF file carries in its tokenizer.ggml.* metadata, so that a .gguf alone is a
// model to generate with. The "llama" tokenizer (Llama 2, TinyLlama, Mistral: SentencePiece BPE
// with byte fallback) is read into the same SentencePiece tokenizer as a tokenizer.model:
// tokenizer.ggml.tokens, .scores and .token_type are its pieces (ggml's token types are
// SentencePiece's piece types), .bos_token_id / .eos_token_id its BOS and EOS, .add_bos_token
// (default true) and .add_eos_token (default false) its framing, and .add_space_prefix (default
// true) its dummy prefix. Whitespace is escaped to "▁" and never collapsed, as llama.cpp does.
// The "gpt2" tokenizer (byte-level BPE: Llama 3, Qwen2) is read as the tokenizer.json it was
// converted from: tokens, .merges, control tokens as special added tokens, and the pre-tokenizer
// that .pre names (gpt-2, default, llama-bpe, qwen2); BOS only when .add_bos_token says so.
// tokenizer.chat_template is the chat template that tokenizer_config.json would hold.
#pragma once

#include <memory>
#include <string>

#include "llm/chat_template.h"
#include "llm/gguf_metadata.h"
#include "llm/tokenizer.h"

namespace kiln::llm {

// Throws Error(InvalidModel) naming the file and key for missing or inconsistent metadata (array
// lengths that differ, a token type ggml does not define, an id outside the vocabulary, a merge
// of unknown tokens), and Error(NotImplemented) for a tokenizer.ggml.model other than "llama" and
// "gpt2", or a .pre Kiln has no pre-tokenizer for.
std::unique_ptr<Tokenizer> load_gguf_tokenizer(const GgufMetadata& metadata);

// tokenizer.chat_template, with the text of the BOS and EOS tokens. Error(InvalidModel) naming the
// file when there is no template, and ChatTemplate::parse's errors naming the key.
ModelChatTemplate load_gguf_chat_template(const GgufMetadata& metadata);

}  // namespace kiln::llm
