// Buffers for a run's tensors, kept from one run to the next so that a steady stream of runs of
// the same model allocates nothing: after the first run, every request finds a cached buffer of
// the right size. A buffer goes back to the arena when the last tensor using it dies, wherever
// that happens (a graph output the caller keeps simply stays out of circulation meanwhile).
//
// One arena serves one run at a time (the session keeps one per concurrent run). trim() at the
// end of a run frees what that run did not use, so memory stays bounded by one run's working set
// when input shapes vary.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "core/aligned_buffer.h"

namespace kiln {

class TensorArena {
 public:
  // Storage for `bytes` bytes, 64-byte aligned; the handle's last copy returns it.
  std::shared_ptr<void> acquire(size_t bytes);
  // Frees cached buffers that no acquire() returned since the previous trim().
  void trim();
  size_t cached_bytes() const;
  size_t buffer_count() const { return blocks_.size(); }

 private:
  struct Block {
    AlignedBuffer<std::byte> memory;
    bool used_since_trim = false;
  };
  // The arena's own reference; a use_count of 1 means no tensor holds the block.
  std::vector<std::shared_ptr<Block>> blocks_;
};

}  // namespace kiln
