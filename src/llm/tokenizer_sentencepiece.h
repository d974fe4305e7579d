// A SentencePiece tokenizer.model, through libsentencepiece: encoding is the library's own;
// decoding follows its rules one piece at a time (see tokenizer.h's append_decoded), so that
// streamed text and decoded text agree.
#pragma once

#include <memory>
#include <string>

#include "llm/tokenizer.h"

namespace kiln::llm {

// `bytes`: the content of the file at `path` (errors name it, and its directory is searched for
// tokenizer_config.json). Throws Error(InvalidModel) when it is not a SentencePiece model or the
// tokenizer_config.json is malformed.
std::unique_ptr<Tokenizer> load_sentencepiece_tokenizer(const std::string& bytes, const std::string& path);

}  // namespace kiln::llm
