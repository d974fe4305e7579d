#include "llm/tokenizer.h"

#include <filesystem>
#include <fstream>

#include "core/read_file.h"
#include "kiln/error.h"
#include "llm/gguf.h"
#include "llm/gguf_tokenizer.h"
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

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::load(const std::string& path) {
  namespace fs = std::filesystem;
  std::string file = path;
  if (fs::is_directory(path)) {
    file.clear();
    for (const char* name : {"tokenizer.json", "tokenizer.model"})
      if (fs::is_regular_file(fs::path(path) / name)) {
        file = (fs::path(path) / name).string();
        break;
      }
    if (file.empty()) throw Error(ErrorCode::Io, path + ": has neither tokenizer.json nor tokenizer.model");
  }
  // A tokenizer.json is JSON; anything else is taken for a SentencePiece model. Its protobuf starts
  // with the first piece: 0x0A (field 1, a length follows; skipped here as a newline), then that
  // piece's length, which would be '{' only for a first piece of 123 bytes ("<unk>" takes ~14).
  if (starts_with_gguf_magic(file)) return load_gguf_tokenizer(GgufFile::open(file).metadata());
  const std::string text = read_file(file);
  const size_t start = text.find_first_not_of(" \t\r\n");
  if (start != std::string::npos && text[start] == '{') return load_hf_tokenizer(text, file);
  return load_spm_tokenizer(text, file);
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
