#include "llm/kv_cache.h"

#include <string>

namespace kiln::llm {

KvCache::KvCache(const KvCacheShape& shape)
    : shape_(shape),
      layout_{.dtype = shape.dtype, .block_size = shape.block_size, .kv_heads = shape.kv_heads,
              .head_dim = shape.head_dim} {
  if (shape.layers <= 0 || shape.kv_heads <= 0 || shape.head_dim <= 0 || shape.block_size <= 0 || shape.blocks <= 0)
    throw Error(ErrorCode::InvalidArgument, "KV cache: layers, KV heads, head dim, block size and block count must "
                                            "be positive, got " + std::to_string(shape.layers) + ", " +
                                                std::to_string(shape.kv_heads) + ", " + std::to_string(shape.head_dim) +
                                                ", " + std::to_string(shape.block_size) + ", " +
                                                std::to_string(shape.blocks));
  const size_t bytes = static_cast<size_t>(shape.layers * shape.blocks * layout_.block_bytes());
  keys_.resize_discarding(bytes);
  values_.resize_discarding(bytes);
  // Handed out from the back: block 0 first, so a lone sequence's blocks are in address order.
  for (int64_t b = shape.blocks - 1; b >= 0; --b) free_.push_back(static_cast<int32_t>(b));
}

void KvCache::grow(KvSequence& sequence, int64_t count) {
  const int64_t needed = blocks_for(sequence.length_ + count) - static_cast<int64_t>(sequence.blocks_.size());
  if (needed > free_blocks())
    throw Error(ErrorCode::Runtime, "KV cache full: a sequence of " + std::to_string(sequence.length_) +
                                        " positions needs " + std::to_string(needed) + " more blocks of " +
                                        std::to_string(shape_.block_size) + " for " + std::to_string(count) +
                                        " new positions, " + std::to_string(free_blocks()) + " of " +
                                        std::to_string(shape_.blocks) + " are free");
  for (int64_t i = 0; i < needed; ++i) {
    sequence.blocks_.push_back(free_.back());
    free_.pop_back();
  }
  sequence.length_ += count;
}

void KvCache::release(KvSequence& sequence) {
  free_.insert(free_.end(), sequence.blocks_.rbegin(), sequence.blocks_.rend());
  sequence.blocks_.clear();
  sequence.length_ = 0;
}

size_t KvCache::block_offset(const KvSequence& sequence, int64_t layer, int64_t position) const {
  const int64_t block = sequence.blocks_[static_cast<size_t>(position / shape_.block_size)];
  return static_cast<size_t>((layer * shape_.blocks + block) * layout_.block_bytes());
}

void KvCache::write(const KvSequence& sequence, int64_t layer, int64_t head, int64_t position, const float* key,
                    const float* value) {
  const size_t offset = block_offset(sequence, layer, position);
  const int64_t slot = position % shape_.block_size;
  kernels::store_kv_row(layout_, keys_.data() + offset, head, slot, key);
  kernels::store_kv_row(layout_, values_.data() + offset, head, slot, value);
}

kernels::PagedKv KvCache::view(const KvSequence& sequence, int64_t layer) const {
  const auto layer_offset = static_cast<size_t>(layer * shape_.blocks * layout_.block_bytes());
  return {.layout = layout_,
          .keys = keys_.data() + layer_offset,
          .values = values_.data() + layer_offset,
          .block_table = sequence.blocks_.data()};
}

}  // namespace kiln::llm
