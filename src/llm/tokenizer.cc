#include "llm/tokenizer.h"

#include <filesystem>
#include <fstream>

#include "core/read_file.h"
#include "engine/engine_format.h"
#include "kiln/error.h"
#include "llm/gguf.h"
#include "llm/gguf_tokenizer.h"
#include "llm/model_files.h"
#include "llm/tokenizer_config.h"
#include "llm/tokenizer_hf.h"
#include "llm/tokenizer_spm.h"
#include "llm/tokenizer_utf8.h"

namespace kiln::llm {
namespace {

bool starts_with_gguf_magic(const std::string& path) {
  char magic[4] = {};
  std::ifstream in(path, std::ios::binary);
  return in.read(magic, 4) && std::string_view(magic, 4) == "GGUF";
}

// A tokenizer.json is JSON; anything else is taken for a SentencePiece model. Its protobuf starts
// with the first piece: 0x0A (field 1, a length follows; skipped here as a newline), then that
// piece's length, which would be '{' only for a first piece of 123 bytes ("<unk>" takes ~14).
std::unique_ptr<Tokenizer> tokenizer_from_bytes(const std::string& text, const std::string& path,
                                                const FramingRule& framing_rule) {
  const size_t start = text.find_first_not_of(" \t\r\n");
  if (start != std::string::npos && text[start] == '{') return make_hf_tokenizer(text, path, framing_rule);
  return load_spm_tokenizer(text, path, framing_rule);
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::load(const ModelFiles& files) {
  if (std::optional<GgufFile> gguf = files.gguf()) return load_gguf_tokenizer(gguf->metadata());
  const FramingRule framing_rule = tokenizer_config_rule(files);
  for (const char* name : {"tokenizer.json", "tokenizer.model"})
    if (std::optional<std::string> text = files.read(name)) return tokenizer_from_bytes(*text, files.path(name), framing_rule);
  throw Error(ErrorCode::Io, files.source() + ": has neither tokenizer.json nor tokenizer.model");
}

std::unique_ptr<Tokenizer> Tokenizer::load(const std::string& path) {
  if (std::filesystem::is_directory(path) || starts_with_gguf_magic(path) || engine::is_engine_file(path))
    return load(ModelFiles::open(path));
  return tokenizer_from_bytes(read_file(path), path, tokenizer_config_rule(ModelFiles::directory(parent_directory(path))));
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  DecodeState state;
  std::string bytes;
  for (int32_t id : ids)
    if (!skip_special_tokens || !is_special(id)) append_decoded(id, state, bytes);
  std::string text;
  append_utf8_lossy(bytes, true, text);
  return text;
}

}  // namespace kiln::llm
