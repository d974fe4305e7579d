#include "core/memory_pattern.h"

#include <algorithm>
#include <limits>

namespace kiln {
namespace {

constexpr size_t kAlignment = 64;

size_t aligned_size(size_t bytes) { return std::max(kAlignment, (bytes + kAlignment - 1) / kAlignment * kAlignment); }

bool lifetimes_intersect(const BufferLifetime& a, const BufferLifetime& b) {
  return a.first_step <= b.last_step && b.first_step <= a.last_step;
}

}  // namespace

MemoryPattern plan_memory(std::vector<BufferLifetime> buffers) {
  MemoryPattern pattern;
  const size_t n = buffers.size();
  pattern.offsets.assign(n, 0);
  pattern.overlapping.resize(n);
  std::vector<uint32_t> order;
  for (uint32_t i = 0; i < n; ++i) {
    if (buffers[i].planned) {
      order.push_back(i);
      pattern.planned_bytes += aligned_size(buffers[i].bytes);
    } else {
      pattern.unplanned_bytes += buffers[i].bytes;
    }
  }
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return buffers[a].bytes > buffers[b].bytes; });

  std::vector<uint32_t> placed;
  std::vector<std::pair<size_t, size_t>> busy;  // [offset, end) of placed buffers alive at the same time
  for (uint32_t i : order) {
    const size_t size = aligned_size(buffers[i].bytes);
    busy.clear();
    for (uint32_t p : placed)
      if (lifetimes_intersect(buffers[i], buffers[p]))
        busy.emplace_back(pattern.offsets[p], pattern.offsets[p] + aligned_size(buffers[p].bytes));
    std::sort(busy.begin(), busy.end());
    size_t best = std::numeric_limits<size_t>::max(), best_gap = std::numeric_limits<size_t>::max();
    size_t cursor = 0;
    for (const auto& [begin, end] : busy) {
      if (begin > cursor && begin - cursor >= size && begin - cursor < best_gap) {
        best = cursor;
        best_gap = begin - cursor;
      }
      cursor = std::max(cursor, end);
    }
    const size_t offset = best == std::numeric_limits<size_t>::max() ? cursor : best;
    pattern.offsets[i] = offset;
    pattern.peak_bytes = std::max(pattern.peak_bytes, offset + size);
    for (uint32_t p : placed) {
      const size_t p_begin = pattern.offsets[p], p_end = p_begin + aligned_size(buffers[p].bytes);
      if (p_begin < offset + size && offset < p_end) {
        pattern.overlapping[i].push_back(p);
        pattern.overlapping[p].push_back(i);
      }
    }
    placed.push_back(i);
  }
  pattern.buffers = std::move(buffers);
  return pattern;
}

}  // namespace kiln
