#include "core/tensor_arena.h"

#include <algorithm>
#include <atomic>

namespace kiln {
namespace {

size_t block_size(size_t bytes) { return std::max<size_t>((bytes + 63) / 64 * 64, 64); }

}  // namespace

std::shared_ptr<void> TensorArena::acquire(size_t bytes) {
  const size_t index = requests_++;
  if (mode_ == Mode::Replaying)
    if (std::shared_ptr<void> planned = acquire_planned(index, bytes)) return planned;
  const std::shared_ptr<Block>& block = acquire_cached(bytes);
  if (mode_ == Mode::Recording) {
    live_.push_back(recorded_.size());
    recorded_.push_back({block, {bytes, step_, step_, true}});
  }
  // Aliasing constructor: the handle shares the block's control block, so no allocation here.
  return std::shared_ptr<void>(block, block->memory.data());
}

const std::shared_ptr<TensorArena::Block>& TensorArena::acquire_cached(size_t bytes) {
  const size_t size = block_size(bytes);
  // Best fit among free blocks no more than twice the request, so that a big buffer is not spent
  // on a small tensor.
  auto best = blocks_.end();
  for (auto it = blocks_.begin(); it != blocks_.end(); ++it) {
    const size_t have = (*it)->memory.size();
    if (have < size || have > 2 * size || it->use_count() != 1) continue;
    if (best == blocks_.end() || have < (*best)->memory.size()) best = it;
  }
  if (best != blocks_.end()) {
    // The last user may have dropped the block on another thread: see its writes before reusing.
    std::atomic_thread_fence(std::memory_order_acquire);
  } else {
    auto block = std::make_shared<Block>();
    block->memory.resize_discarding(size);
    blocks_.push_back(std::move(block));
    best = blocks_.end() - 1;
  }
  (*best)->used_since_trim = true;
  return *best;
}

std::shared_ptr<void> TensorArena::acquire_planned(size_t index, size_t bytes) {
  const MemoryPattern& pattern = *pattern_;
  if (index >= pattern.buffers.size()) return nullptr;
  const BufferLifetime& planned = pattern.buffers[index];
  if (!planned.planned || block_size(bytes) > block_size(planned.bytes)) return nullptr;
  if (handles_[index].use_count() != 1) return nullptr;
  for (uint32_t other : pattern.overlapping[index])
    if (handles_[other].use_count() != 1) return nullptr;
  std::atomic_thread_fence(std::memory_order_acquire);
  return std::shared_ptr<void>(handles_[index], pattern_block_->data() + pattern.offsets[index]);
}

void TensorArena::begin_run(std::shared_ptr<const MemoryPattern> pattern) {
  pattern_ = std::move(pattern);
  mode_ = pattern_ ? Mode::Replaying : Mode::Recording;
  step_ = 0;
  requests_ = 0;
  recorded_.clear();
  live_.clear();
  if (pattern_) prepare_pattern_block();
}

void TensorArena::prepare_pattern_block() {
  const size_t needed = pattern_->peak_bytes;
  const bool grow = !pattern_block_ || pattern_block_->size() < needed;
  if (grow) {
    handles_.clear();  // every handle is free between runs (end_run makes sure), so no one sees this
    pattern_block_.reset();
    // The recording's cached blocks are what the block replaces: freed first, so that the two
    // never add up at the peak. Blocks a caller still holds stay.
    std::erase_if(blocks_, [](const std::shared_ptr<Block>& block) { return block.use_count() == 1; });
    pattern_block_ = std::make_shared<AlignedBuffer<std::byte>>(needed);
  }
  while (handles_.size() < pattern_->buffers.size())
    handles_.push_back(std::make_shared<PatternHandle>(PatternHandle{pattern_block_}));
}

void TensorArena::set_step(int step) { step_ = step; }

void TensorArena::end_step() {
  if (mode_ == Mode::Recording) note_releases();
}

void TensorArena::note_releases() {
  std::erase_if(live_, [&](size_t i) {
    Recorded& r = recorded_[i];
    if (r.block.use_count() != 1) return false;
    r.lifetime.last_step = step_;
    return true;
  });
}

std::vector<BufferLifetime> TensorArena::end_run() {
  std::vector<BufferLifetime> lifetimes;
  if (mode_ == Mode::Recording) {
    note_releases();
    for (size_t i : live_) recorded_[i].lifetime.planned = false;
    for (const Recorded& r : recorded_) lifetimes.push_back(r.lifetime);
  }
  if (mode_ == Mode::Replaying) {
    // A planned buffer still held (a result that the pattern did not foresee) pins its bytes:
    // the next run must not plan over them, so the arena lets this block go.
    const bool pinned = std::any_of(handles_.begin(), handles_.end(), [](const auto& h) { return h.use_count() != 1; });
    if (pinned) {
      handles_.clear();
      pattern_block_.reset();
    }
  }
  mode_ = Mode::Idle;
  pattern_.reset();
  recorded_.clear();
  live_.clear();
  return lifetimes;
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
