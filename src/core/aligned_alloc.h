// 64-byte aligned storage (one cache line, one AVX-512 register) for tensors and packed buffers.
// Blocks of kMappedBytes and more are mapped from the OS directly, so that freeing one gives it
// back at once: malloc keeps freed blocks under its mmap threshold (which rises as large blocks
// are freed) in its heap, where a model's weights, freed once packed, stayed resident.
#pragma once

#include <cstddef>

namespace kiln {

inline constexpr size_t kAlignment = 64;
inline constexpr size_t kMappedBytes = size_t{1} << 20;

// Throws std::bad_alloc when the memory is not there. `bytes` may be 0.
void* aligned_allocate(size_t bytes);
// Frees what aligned_allocate(bytes) returned, with the same `bytes`.
void aligned_free(void* p, size_t bytes);

}  // namespace kiln
