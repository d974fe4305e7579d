// The safetensors checkpoint format (Hugging Face): an 8-byte little-endian header length N, N
// bytes of JSON mapping each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (plus
// an optional "__metadata__" object of strings), then the tensors' bytes, whose [begin, end)
// ranges, relative to the end of the header, must tile the data exactly.
//
// Reading maps the file and checks all of it before returning (every error names the file and,
// where there is one, the tensor); tensors are then views into the mapping, copied only when their
// bytes are not aligned for their element type.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "kiln/tensor.h"

namespace kiln::llm {

struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::Undefined;
  Shape shape;
  size_t begin = 0, end = 0;  // byte range in the data section
};

class SafetensorsFile {
 public:
  // Throws Error(Io) when the file cannot be read, Error(InvalidModel) when it is malformed,
  // Error(NotImplemented) for a dtype Kiln has no tensor type for (the float8 formats).
  static SafetensorsFile open(const std::string& path);
  // The same checks over bytes in memory that `owner` keeps alive; `source` names them in errors.
  static SafetensorsFile parse(std::shared_ptr<const void> owner, const std::byte* data, size_t size,
                               const std::string& source);

  // In the header's order.
  const std::vector<SafetensorsEntry>& entries() const { return entries_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Null when there is no tensor of that name.
  const SafetensorsEntry* find(const std::string& name) const;
  // The tensor's elements. A view into the file when they are aligned for their dtype (writing to
  // it changes this process's copy of the page, never the file); a copy otherwise. Throws
  // Error(InvalidArgument) naming the file for an unknown name.
  Tensor tensor(const std::string& name) const;

 private:
  std::shared_ptr<const void> owner_;
  const std::byte* data_section_ = nullptr;
  std::string source_;
  std::vector<SafetensorsEntry> entries_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// Writes `tensors` (names unique, in this order, each dense) and `metadata` as a safetensors file,
// the header padded with spaces to a multiple of 8 bytes so that the data section stays aligned.
// Throws Error(InvalidArgument) for a repeated name or a dtype safetensors has no name for, and
// Error(Io) when the file cannot be written.
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace kiln::llm
