// GGUF, llama.cpp's model file (versions 2 and 3, little-endian): a header (magic "GGUF", version,
// tensor count, key/value count), typed metadata key/values, one info record per tensor (name,
// dims, ggml type, offset), padding to the alignment, then the tensors' bytes, each at an aligned
// offset from the start of that data section.
//
// Reading maps the file and checks all of it before returning: every count and length against the
// bytes left, keys and tensor names unique, each tensor's size from its type and dims, offsets
// aligned, tensors inside the file and not overlapping. Every error names the file and the key or
// tensor. Tensors are then read in place: raw() gives a tensor's bytes in the mapping, to_float32()
// its values.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kiln/tensor.h"
#include "llm/gguf_metadata.h"

namespace kiln::llm {

// The ggml tensor types Kiln reads (ggml's numbering). Other ggml types are rejected at open.
enum class GgmlType : uint32_t { F32 = 0, F16 = 1, Q4_0 = 2, Q8_0 = 8, BF16 = 30 };
const char* ggml_type_name(GgmlType type);

struct GgufTensorInfo {
  std::string name;
  Shape shape;  // Kiln's row-major order: GGUF's dims reversed, so the last dim varies fastest
  GgmlType type = GgmlType::F32;
  uint64_t offset = 0;  // from the start of the data section
  uint64_t bytes = 0;
};

// The dtype GgufFile::dense gives a tensor of `type`: Float16 and BFloat16 for F16 and BF16,
// Float32 for F32 and the block types.
DType gguf_dense_dtype(GgmlType type);

class GgufFile {
 public:
  // The data section's alignment when general.alignment is absent.
  static constexpr uint64_t kDefaultAlignment = 32;

  // Throws Error(Io) when the file cannot be read, Error(InvalidModel) when it is malformed,
  // Error(NotImplemented) for GGUF version 1, a big-endian file, or a ggml tensor type Kiln does
  // not read (naming the tensor and the type).
  static GgufFile open(const std::string& path);
  // The same checks over bytes in memory that `owner` keeps alive; `source` names them in errors.
  static GgufFile parse(std::shared_ptr<const void> owner, const std::byte* data, size_t size, const std::string& source);

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  const GgufMetadata& metadata() const { return metadata_; }
  // In the file's order.
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  // Null when there is no tensor of that name.
  const GgufTensorInfo* find_tensor(const std::string& name) const;
  // The tensor's bytes in the mapping, as the file stores them (blocks for Q8_0 and Q4_0).
  // Error(InvalidArgument) naming the file for an unknown name, as for to_float32.
  std::span<const std::byte> raw(const std::string& name) const;
  // The tensor's values as a dense float32 tensor of its shape: F32 is a view into the mapping when
  // aligned (writing to it changes this process's copy of the page, never the file), every other
  // type is converted or dequantized into new storage.
  Tensor to_float32(const std::string& name) const;
  // The tensor in gguf_dense_dtype: F16 and BF16 as stored (a view into the mapping when
  // aligned), every other type as to_float32 gives it.
  Tensor dense(const std::string& name) const;

 private:
  const GgufTensorInfo& info(const std::string& name) const;
  // A view of `t`'s bytes as `dtype`; undefined when they are not aligned for it.
  Tensor view(const GgufTensorInfo& t, DType dtype) const;

  std::shared_ptr<const void> owner_;
  const std::byte* data_section_ = nullptr;
  std::string source_;
  uint32_t version_ = 0;
  uint64_t alignment_ = kDefaultAlignment;
  GgufMetadata metadata_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t> index_;
};

// A tensor to write: `values` (Float32, or already of `type` when that is F16 or BF16) stored as
// `type`, Q8_0 and Q4_0 quantized as llama.cpp does (ggml_blocks.h).
struct GgufTensorToWrite {
  std::string name;
  Tensor values;
  GgmlType type = GgmlType::F32;
};

// Writes a GGUF version 3 file with the data section aligned to general.alignment when `metadata`
// has it (a power-of-two UInt32), else 32. Throws Error(InvalidArgument) for a metadata value
// outside its type's range, a repeated tensor name, a dtype that does not convert to the type, a
// last dim that is not a multiple of the block size, or a value that cannot be quantized (the
// partial file is then removed), and Error(Io) when the file cannot be written.
void save_gguf(const std::string& path, const GgufMetadata& metadata, const std::vector<GgufTensorToWrite>& tensors);
// A GGUF file's bytes with `metadata` and no tensors (what an LLM engine built from a GGUF keeps of
// it: the config, tokenizer and chat template).
std::string gguf_metadata_file(const GgufMetadata& metadata);

}  // namespace kiln::llm
