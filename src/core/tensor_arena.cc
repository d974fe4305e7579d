#include "core/tensor_arena.h"

#include <algorithm>
#include <atomic>

namespace kiln {

std::shared_ptr<void> TensorArena::acquire(size_t bytes) {
  const size_t size = std::max<size_t>((bytes + 63) / 64 * 64, 64);
  // Best fit among free blocks no more than twice the request, so that a big buffer is not spent
  // on a small tensor.
  std::shared_ptr<Block>* best = nullptr;
  for (auto& block : blocks_) {
    const size_t have = block->memory.size();
    if (have < size || have > 2 * size || block.use_count() != 1) continue;
    if (!best || have < (*best)->memory.size()) best = &block;
  }
  if (best) {
    // The last user may have dropped the block on another thread: see its writes before reusing.
    std::atomic_thread_fence(std::memory_order_acquire);
  } else {
    auto block = std::make_shared<Block>();
    block->memory.resize_discarding(size);
    blocks_.push_back(std::move(block));
    best = &blocks_.back();
  }
  (*best)->used_since_trim = true;
  // Aliasing constructor: the handle shares the block's control block, so no allocation here.
  return std::shared_ptr<void>(*best, (*best)->memory.data());
}

void TensorArena::trim() {
  std::erase_if(blocks_, [](const std::shared_ptr<Block>& block) {
    return !block->used_since_trim && block.use_count() == 1;
  });
  for (auto& block : blocks_) block->used_since_trim = false;
}

size_t TensorArena::cached_bytes() const {
  size_t total = 0;
  for (const auto& block : blocks_) total += block->memory.size();
  return total;
}

}  // namespace kiln
