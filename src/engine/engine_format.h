// A Kiln engine file (`kiln build`): a model optimized and prepared for one CPU level, loaded by
// mapping it and using its bytes in place, as TensorRT loads a plan.
//
//   [0, 64)                    FileHeader: magic, format version, where the rest lies, checksums
//   [64, 64 + metadata_size)   the FlatBuffers Engine (engine.fbs): build info, graph, blob table
//   [data_offset, file_size)   blobs (weights, prepared weights, files), each 64-byte aligned
//
// Every byte is covered by a checksum (the header's own, the metadata's, one per blob), checked
// when the file loads: a truncated or corrupted file is refused with an error saying which part
// is damaged, never run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace kiln::engine {

inline constexpr char kEngineMagic[8] = {'K', 'I', 'L', 'N', 'E', 'N', 'G', '\0'};
// Raised for any change a reader of the previous version would misread.
inline constexpr uint32_t kEngineFormatVersion = 1;
inline constexpr size_t kBlobAlignment = 64;

struct FileHeader {
  char magic[8];
  uint32_t format_version;
  uint32_t header_bytes;  // sizeof(FileHeader)
  uint64_t metadata_offset;
  uint64_t metadata_size;
  uint64_t metadata_xxh64;
  uint64_t data_offset;  // blobs' offsets count from here
  uint64_t file_size;
  uint64_t header_xxh64;  // of the bytes before it
};
static_assert(sizeof(FileHeader) == 64);

// Whether `bytes` (the file's first ones) begin with the engine magic.
bool starts_like_engine(const void* bytes, size_t size);
// Whether the file at `path` begins with the engine magic; false when it cannot be read.
bool is_engine_file(const std::string& path);

}  // namespace kiln::engine
