// A file mapped into memory, unmapped when the last reference goes: what lets tensors read in
// place from a checkpoint (safetensors, GGUF) hold the mapping alive as their owner. The mapping
// is private: writing to it copies the page for this process, the file never changes.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

namespace kiln {

class MappedFile {
 public:
  // Throws Error(Io) naming the path when the file cannot be opened, is not a regular file, or
  // cannot be mapped. An empty file maps to size() == 0 and a null data().
  static std::shared_ptr<const MappedFile> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::byte* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile(std::string path, const std::byte* data, size_t size) : path_(std::move(path)), data_(data), size_(size) {}

  std::string path_;
  const std::byte* data_;
  size_t size_;
};

}  // namespace kiln
