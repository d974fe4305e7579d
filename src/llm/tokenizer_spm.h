// A SentencePiece tokenizer.model with a BPE model (Llama 2, TinyLlama, Mistral): the protobuf is
// read through Kiln's own subset of its schema (sentencepiece_model.proto) and turned into the BPE
// model tokenizer.json files use, with SentencePiece's normalizer and decoding rules around it.
#pragma once

#include <memory>
#include <string>

#include "llm/tokenizer.h"
#include "llm/tokenizer_config.h"

namespace kiln::llm {

// `bytes` is the file's content, `path` where it came from (errors name it, and its directory is
// searched for tokenizer_config.json). Throws Error(InvalidModel) for a file that is not a
// SentencePiece model or is inconsistent (naming the field or piece), Error(NotImplemented) for a
// model other than BPE or a normalizer with a character map.
std::unique_ptr<Tokenizer> load_spm_tokenizer(const std::string& bytes, const std::string& path);
// The same with the framing rule of another source (tokenizer_config_rule of the model's files).
std::unique_ptr<Tokenizer> load_spm_tokenizer(const std::string& bytes, const std::string& path,
                                              const FramingRule& framing_rule);

namespace spm {
class ModelProto;
}

// A SentencePiece model already in memory (GGUF files carry one as tokenizer.ggml.*), with the
// same checks and errors as load_spm_tokenizer; `path` names it in errors.
std::unique_ptr<Tokenizer> make_spm_tokenizer(const spm::ModelProto& proto, const std::string& path,
                                              const FramingRule& framing_rule);

}  // namespace kiln::llm
