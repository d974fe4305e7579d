#include "llm/model_files.h"

#include <filesystem>

#include "core/read_file.h"
#include "engine/engine_format.h"
#include "llm/llm_engine.h"

namespace kiln::llm {

ModelFiles ModelFiles::open(const std::string& model_path) {
  namespace fs = std::filesystem;
  if (fs::is_directory(model_path)) return directory(model_path);
  if (!fs::is_regular_file(model_path))
    throw Error(ErrorCode::Io, model_path + ": neither a model directory, a GGUF file nor an engine file");
  if (engine::is_engine_file(model_path)) return llm_engine_files(model_path);
  ModelFiles files;
  files.kind_ = Kind::Gguf;
  files.source_ = model_path;
  return files;
}

ModelFiles ModelFiles::directory(const std::string& dir) {
  ModelFiles files;
  files.source_ = dir;
  return files;
}

ModelFiles ModelFiles::held(std::string source, std::map<std::string, std::string> held) {
  ModelFiles files;
  files.kind_ = Kind::Held;
  files.source_ = std::move(source);
  files.held_ = std::make_shared<const std::map<std::string, std::string>>(std::move(held));
  return files;
}

std::optional<std::string> ModelFiles::read(const std::string& name) const {
  switch (kind_) {
    case Kind::Directory: {
      const std::string file = path(name);
      std::error_code error;
      if (!std::filesystem::exists(file, error) && !error) return std::nullopt;  // an error is read_file's to report
      return read_file(file);
    }
    case Kind::Gguf: return std::nullopt;
    case Kind::Held: {
      auto it = held_->find(name);
      if (it == held_->end()) return std::nullopt;
      return it->second;
    }
  }
  return std::nullopt;
}

std::string ModelFiles::path(const std::string& name) const {
  if (kind_ == Kind::Directory) return (std::filesystem::path(source_) / name).string();
  return source_ + ":" + name;
}

std::optional<GgufFile> ModelFiles::gguf() const {
  if (kind_ == Kind::Gguf) return GgufFile::open(source_);
  if (kind_ != Kind::Held) return std::nullopt;
  auto it = held_->find(kGgufMetadataFile);
  if (it == held_->end()) return std::nullopt;
  // The held bytes outlive the GgufFile through the shared map.
  return GgufFile::parse(held_, reinterpret_cast<const std::byte*>(it->second.data()), it->second.size(),
                         path(kGgufMetadataFile));
}

std::string parent_directory(const std::string& file) {
  const std::filesystem::path parent = std::filesystem::path(file).parent_path();
  return parent.empty() ? "." : parent.string();
}

}  // namespace kiln::llm
