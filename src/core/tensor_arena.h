// Buffers for a run's tensors, kept from one run to the next so that a steady stream of runs of
// the same model allocates nothing.
//
// A run either records or replays. A recording run takes buffers from a cache of blocks (best
// fit, each block returned when the last tensor using it dies) and notes when each buffer was
// acquired and released; plan_memory() turns those lifetimes into a MemoryPattern. A run with a
// pattern recorded for the same input shapes takes its buffers at the pattern's offsets in one
// block. A replay request that does not match the pattern (another size, or bytes that a tensor
// still holds) falls back to the cache, so a wrong pattern costs memory, never correctness.
//
// One arena serves one run at a time (the session keeps one per concurrent run). trim() at the
// end of a run frees cached blocks that run did not use, so memory stays bounded by one run's
// working set plus the largest pattern's block when input shapes vary.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "core/aligned_buffer.h"
#include "core/memory_pattern.h"

namespace kiln {

class TensorArena {
 public:
  // Storage for `bytes` bytes, 64-byte aligned; the handle's last copy returns it.
  std::shared_ptr<void> acquire(size_t bytes);

  // Starts a run that replays `pattern`, or records when it is null. Requests made outside a
  // run (between end_run and begin_run) are served from the cache and neither recorded nor planned.
  void begin_run(std::shared_ptr<const MemoryPattern> pattern);
  // Requests that follow belong to step `step` (steps count up from 0 within a run).
  void set_step(int step);
  // Called after the current step's dead tensors were dropped: a recording notes the releases.
  void end_step();
  // Called once every tensor of the run but its results was dropped. Returns what a recording
  // run saw, buffers still held (the results) marked unplanned; a replay returns nothing.
  std::vector<BufferLifetime> end_run();

  // Frees cached buffers that no acquire() returned since the previous trim().
  void trim();
  size_t cached_bytes() const;
  size_t buffer_count() const { return blocks_.size(); }
  size_t pattern_block_bytes() const { return pattern_block_ ? pattern_block_->size() : 0; }

 private:
  struct Block {
    AlignedBuffer<std::byte> memory;
    bool used_since_trim = false;
  };
  // One per planned buffer, so each has its own use count; it keeps the pattern block alive for
  // a tensor that outlives the arena.
  struct PatternHandle {
    std::shared_ptr<AlignedBuffer<std::byte>> block;
  };
  struct Recorded {
    std::weak_ptr<Block> block;
    BufferLifetime lifetime;
  };

  const std::shared_ptr<Block>& acquire_cached(size_t bytes);
  std::shared_ptr<void> acquire_planned(size_t index, size_t bytes);
  void prepare_pattern_block();
  void note_releases();

  // The arena's own reference; a use_count of 1 means no tensor holds the block.
  std::vector<std::shared_ptr<Block>> blocks_;

  enum class Mode { Idle, Recording, Replaying } mode_ = Mode::Idle;
  int step_ = 0;
  size_t requests_ = 0;  // requests made so far in this run
  std::shared_ptr<const MemoryPattern> pattern_;
  std::shared_ptr<AlignedBuffer<std::byte>> pattern_block_;
  std::vector<std::shared_ptr<PatternHandle>> handles_;
  std::vector<Recorded> recorded_;
  std::vector<size_t> live_;  // indices into recorded_ of buffers not yet released
};

}  // namespace kiln
