// What the GGUF reader and writer share: the encoded sizes of value types, the byte layout of the
// ggml tensor types Kiln reads, and the data section's alignment.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kiln/error.h"
#include "kiln/tensor.h"
#include "llm/gguf.h"

namespace kiln::llm {

// Bytes of one encoded scalar of `type`; 0 for String and Array, whose size is in their encoding.
size_t gguf_scalar_bytes(GgufType type);

// A readable ggml type stores each run of `block_elements` consecutive row elements (ggml's ne[0],
// Kiln's last dim) in `block_bytes`; the plain types are blocks of one.
struct GgmlLayout {
  GgmlType type;
  const char* name;
  int64_t block_elements;
  uint64_t block_bytes;
};
// Null when ggml numbers no type `id` or Kiln does not read it.
const GgmlLayout* ggml_layout(uint32_t id);
// The name of any type ggml numbers `id`, readable or not; null for an id it does not use.
const char* ggml_any_type_name(uint32_t id);

// general.alignment (a power-of-two UInt32) or 32; throws Error(code) naming the metadata's source.
uint64_t gguf_alignment(const GgufMetadata& metadata, ErrorCode code);

}  // namespace kiln::llm
