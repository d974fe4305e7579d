// Where a model's side files come from: what its runtime reads beside the weights (config.json,
// tokenizer.json or tokenizer.model, tokenizer_config.json, generation_config.json,
// chat_template.jinja), or, for a GGUF, its metadata, which carries all of that. A model directory,
// a GGUF file, or the copies an LLM engine file holds (llm_engine.h): the loaders of configs,
// tokenizers and chat templates read through this, so each works on all three.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "llm/gguf.h"

namespace kiln::llm {

class ModelFiles {
 public:
  // A model directory, a GGUF file or an LLM engine file, told apart by what is there.
  // Error(Io) when the path is none of them.
  static ModelFiles open(const std::string& model_path);
  static ModelFiles directory(const std::string& dir);
  // Files held in memory (an engine's copies); `source` names them in errors.
  static ModelFiles held(std::string source, std::map<std::string, std::string> files);

  // The file's bytes; nullopt when there is no such file. Error(Io) naming it when it is there
  // but cannot be read.
  std::optional<std::string> read(const std::string& name) const;
  // How errors name a file: "DIR/config.json", "model.kiln:config.json".
  std::string path(const std::string& name) const;
  const std::string& source() const { return source_; }
  // The GGUF whose metadata stands in for the files: the GGUF file itself, or the metadata an
  // engine built from one kept ("model.gguf", without tensors); nullopt otherwise.
  std::optional<GgufFile> gguf() const;

 private:
  enum class Kind { Directory, Gguf, Held };
  Kind kind_ = Kind::Directory;
  std::string source_;
  std::shared_ptr<const std::map<std::string, std::string>> held_;
};

// The directory a file is in ("." for a bare name): where its model's other files are.
std::string parent_directory(const std::string& file);

// The held file an engine built from a GGUF keeps its metadata in.
inline constexpr const char* kGgufMetadataFile = "model.gguf";

}  // namespace kiln::llm
