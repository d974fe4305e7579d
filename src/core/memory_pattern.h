// Offsets in one block for the buffers of a run, from their sizes and lifetimes as a recorded run
// saw them (ONNX Runtime's "memory pattern"): two buffers share bytes only when their lifetimes are
// disjoint, so a run with the same input shapes can take every buffer from one block of
// `peak_bytes` instead of allocating them one by one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kiln {

// One buffer as a run used it: acquired during step `first_step`, last held during `last_step`.
// `planned` is false for a buffer that outlived the run (a graph output the caller keeps): it
// cannot live in a block the next run reuses.
struct BufferLifetime {
  size_t bytes = 0;
  int first_step = 0;
  int last_step = 0;
  bool planned = true;
};

struct MemoryPattern {
  std::vector<BufferLifetime> buffers;  // in acquisition order: buffer i is the run's i-th request
  std::vector<size_t> offsets;          // byte offset of each planned buffer in the block
  // For each buffer, the planned buffers whose bytes overlap its own (their lifetimes are disjoint
  // from its): a replay hands buffer i out only once all of them are free again.
  std::vector<std::vector<uint32_t>> overlapping;
  size_t peak_bytes = 0;       // the block's size
  size_t planned_bytes = 0;    // the planned buffers' sizes summed: the memory without reuse
  size_t unplanned_bytes = 0;  // buffers that outlived the run
};

// Greedy by size: the largest buffers are placed first, each in the tightest gap left by the
// placed buffers whose lifetimes intersect its own. Offsets and sizes stay multiples of 64.
MemoryPattern plan_memory(std::vector<BufferLifetime> buffers);

}  // namespace kiln
