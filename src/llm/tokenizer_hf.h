// A Hugging Face tokenizer.json with a BPE model: added tokens, then per stretch of text between
// them the normalizer, the pre-tokenizer and BPE per word, then the post-processor's BOS/EOS.
#pragma once

#include <memory>
#include <string>

#include "llm/tokenizer.h"
#include "llm/tokenizer_config.h"

namespace kiln::llm {

// `text` is the file's content, `path` where it came from (errors name it, and its directory is
// searched for tokenizer_config.json).
std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& text, const std::string& path);
// The same with the framing rule of another source: the model's (tokenizer_config_rule of its
// files) or a GGUF's metadata's (gguf_tokenizer.h).
std::unique_ptr<Tokenizer> make_hf_tokenizer(const std::string& text, const std::string& path,
                                             const FramingRule& framing_rule);

}  // namespace kiln::llm
