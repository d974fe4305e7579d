// How a paged KV cache (llm/kv_cache.h) lays out one layer's keys, or its values, in blocks of
// `block_size` positions, and how a row of head_dim floats is stored in each dtype. The cache
// writes rows through store_kv_row; the attention kernels (paged_attention.h) read the blocks
// directly, converting in registers.
//
// A block is [kv_heads][block_size][head_dim] elements, so one head's positions within a block
// are contiguous rows; Int8 blocks then hold, from the next 64-byte boundary, one float scale per
// row, [kv_heads][block_size]. Blocks are padded to 64 bytes, so every block and its scales start
// on a cache line of a 64-byte aligned pool.
//   Float32: the rows as computed.
//   Float16: IEEE half, rounded to nearest even (what F16C's vcvtps2ph does).
//   Int8:    symmetric per row, scale = max|x| / 127, q = round(x / scale), x ≈ scale * q.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace kiln::kernels {

enum class KvDtype { Float32, Float16, Int8 };

// "f32", "f16", "int8": the names `kiln bench-llm --kv-cache` takes.
const char* kv_dtype_name(KvDtype dtype);
// Error(InvalidArgument) naming `name` and the accepted names for anything else.
KvDtype kv_dtype_from_name(const std::string& name);

struct PagedKvLayout {
  KvDtype dtype = KvDtype::Float32;
  int64_t block_size = 0, kv_heads = 0, head_dim = 0;

  int64_t element_bytes() const { return dtype == KvDtype::Float32 ? 4 : dtype == KvDtype::Float16 ? 2 : 1; }
  int64_t row_bytes() const { return head_dim * element_bytes(); }
  // Bytes from a block's start to the row of `head` at `slot` (its position within the block).
  int64_t row_offset(int64_t head, int64_t slot) const { return (head * block_size + slot) * row_bytes(); }
  // Bytes from a block's start to that row's Int8 scale.
  int64_t scale_offset(int64_t head, int64_t slot) const {
    return round_up(kv_heads * block_size * row_bytes()) + (head * block_size + slot) * 4;
  }
  int64_t block_bytes() const {
    return dtype == KvDtype::Int8 ? round_up(scale_offset(kv_heads, 0)) : round_up(kv_heads * block_size * row_bytes());
  }

 private:
  static int64_t round_up(int64_t bytes) { return (bytes + 63) / 64 * 64; }
};

// Stores the head_dim floats of `x` as the row of `head` at `slot` of `block`.
void store_kv_row(const PagedKvLayout& layout, std::byte* block, int64_t head, int64_t slot, const float* x);
// The stored row as head_dim floats (dequantized): what the attention kernels compute with.
void load_kv_row(const PagedKvLayout& layout, const std::byte* block, int64_t head, int64_t slot, float* x);

}  // namespace kiln::kernels
