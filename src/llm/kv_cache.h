// The paged KV cache: keys and values of every sequence in fixed-size blocks of `block_size`
// positions drawn from one pool, as vLLM's PagedAttention keeps them. A sequence owns a block
// table (its blocks in position order, anywhere in the pool); growing it takes blocks from the
// free list and never moves what is cached, and releasing it returns its blocks.
//
// Layout: keys and values each have a pool of [layers][blocks] blocks, each block laid out as
// kernels/cpu/paged_kv.h says for the shape's dtype ([kv_heads][block_size][head_dim] elements,
// then Int8's per-row scales), so one head's positions within a block are contiguous rows for the
// attention kernel. Rows are converted or quantized as they are written.
#pragma once

#include <cstdint>
#include <vector>

#include "core/aligned_buffer.h"
#include "kiln/error.h"
#include "kernels/cpu/paged_attention.h"

namespace kiln::llm {

struct KvCacheShape {
  int64_t layers = 0, kv_heads = 0, head_dim = 0;
  int64_t block_size = 16;
  int64_t blocks = 0;  // in the pool
  kernels::KvDtype dtype = kernels::KvDtype::Float32;
};

class KvCache;

// One sequence's positions in a KvCache. Move-only; release it through the cache that grew it.
class KvSequence {
 public:
  int64_t length() const { return length_; }
  const std::vector<int32_t>& block_table() const { return blocks_; }

 private:
  friend class KvCache;
  std::vector<int32_t> blocks_;
  int64_t length_ = 0;
};

class KvCache {
 public:
  // Error(InvalidArgument) for a non-positive size; the pool is allocated up front.
  explicit KvCache(const KvCacheShape& shape);

  const KvCacheShape& shape() const { return shape_; }
  int64_t free_blocks() const { return static_cast<int64_t>(free_.size()); }
  // Blocks a sequence of `positions` needs.
  int64_t blocks_for(int64_t positions) const { return (positions + shape_.block_size - 1) / shape_.block_size; }

  // Makes room for `count` more positions after the sequence's current length and advances the
  // length. Error(Runtime) naming the sizes, with the sequence unchanged, when the pool has too
  // few free blocks.
  void grow(KvSequence& sequence, int64_t count);
  // Returns the sequence's blocks to the free list and empties it.
  void release(KvSequence& sequence);

  // Stores head_dim floats each of `key` and `value` as layer `layer`'s rows of `head` at
  // `position` of `sequence` (which grow has made room for), in the cache's dtype.
  void write(const KvSequence& sequence, int64_t layer, int64_t head, int64_t position, const float* key,
             const float* value);
  // The sequence's keys and values of one layer as the attention kernel reads them.
  kernels::PagedKv view(const KvSequence& sequence, int64_t layer) const;

 private:
  size_t block_offset(const KvSequence& sequence, int64_t layer, int64_t position) const;

  KvCacheShape shape_;
  kernels::PagedKvLayout layout_;
  AlignedBuffer<std::byte> keys_, values_;  // [layers][blocks] blocks of layout_.block_bytes()
  std::vector<int32_t> free_;               // taken from the back
};

}  // namespace kiln::llm
