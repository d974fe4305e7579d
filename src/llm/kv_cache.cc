#include "llm/kv_cache.h"

#include <string>

namespace kiln::llm {

KvCache::KvCache(const KvCacheShape& shape) : shape_(shape) {
  if (shape.layers <= 0 || shape.kv_heads <= 0 || shape.head_dim <= 0 || shape.block_size <= 0 || shape.blocks <= 0)
    throw Error(ErrorCode::InvalidArgument, "KV cache: layers, KV heads, head dim, block size and block count must "
                                            "be positive, got " + std::to_string(shape.layers) + ", " +
                                                std::to_string(shape.kv_heads) + ", " + std::to_string(shape.head_dim) +
                                                ", " + std::to_string(shape.block_size) + ", " +
                                                std::to_string(shape.blocks));
  const size_t floats = static_cast<size_t>(shape.layers * shape.blocks) * block_floats();
  keys_.resize_discarding(floats);
  values_.resize_discarding(floats);
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

float* KvCache::row(AlignedBuffer<float>& pool, const KvSequence& sequence, int64_t layer, int64_t head,
                    int64_t position) {
  const auto block = static_cast<size_t>(sequence.blocks_[static_cast<size_t>(position / shape_.block_size)]);
  const size_t offset = (static_cast<size_t>(layer * shape_.blocks) + block) * block_floats() +
                        static_cast<size_t>((head * shape_.block_size + position % shape_.block_size) * shape_.head_dim);
  return pool.data() + offset;
}

float* KvCache::key_row(const KvSequence& sequence, int64_t layer, int64_t head, int64_t position) {
  return row(keys_, sequence, layer, head, position);
}

float* KvCache::value_row(const KvSequence& sequence, int64_t layer, int64_t head, int64_t position) {
  return row(values_, sequence, layer, head, position);
}

kernels::PagedKv KvCache::view(const KvSequence& sequence, int64_t layer) const {
  const size_t layer_offset = static_cast<size_t>(layer * shape_.blocks) * block_floats();
  return {.keys = keys_.data() + layer_offset,
          .values = values_.data() + layer_offset,
          .block_table = sequence.blocks_.data(),
          .block_size = shape_.block_size,
          .kv_heads = shape_.kv_heads,
          .head_dim = shape_.head_dim};
}

}  // namespace kiln::llm
