#include "core/aligned_alloc.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace kiln {

namespace {

constexpr size_t kHugePage = size_t{2} << 20, kPage = 4096;

// Large buffers (weights above all, which decode streams once per token) sit on 2 MB pages where
// the kernel allows it: with 4 KB pages every weight row of a few KB was its own TLB miss and the
// hardware prefetcher stopped at each page, holding f16 decode to a seventh of the read bandwidth.
// The mapping is over-allocated, trimmed to a 2 MB boundary, and faulted in up front as before.
void* map_large(size_t bytes) {
  const size_t span = bytes + kHugePage;
  void* base = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<uintptr_t>(base), aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
  const uintptr_t end = aligned + (bytes + kPage - 1) / kPage * kPage;
  if (aligned > start) ::munmap(base, aligned - start);
  if (start + span > end) ::munmap(reinterpret_cast<void*>(end), start + span - end);
  void* p = reinterpret_cast<void*>(aligned);
  ::madvise(p, bytes, MADV_HUGEPAGE);
  // Faults every page in now, as MAP_POPULATE did, so that no run pays for first touches; kernels
  // before 5.14 lack MADV_POPULATE_WRITE (EINVAL) and get the pages touched instead.
  if (::madvise(p, bytes, MADV_POPULATE_WRITE) != 0) {
    if (errno != EINVAL) {
      ::munmap(p, bytes);
      throw std::bad_alloc();
    }
    for (size_t i = 0; i < bytes; i += kPage) static_cast<volatile char*>(p)[i] = 0;
  }
  return p;
}

}  // namespace

void* aligned_allocate(size_t bytes) {
  if (bytes >= kMappedBytes) return map_large(bytes);
  const size_t rounded = bytes == 0 ? kAlignment : (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void* p = std::aligned_alloc(kAlignment, rounded);
  if (!p) throw std::bad_alloc();
  return p;
}

void aligned_free(void* p, size_t bytes) {
  if (!p) return;
  if (bytes >= kMappedBytes)
    ::munmap(p, bytes);
  else
    std::free(p);
}

}  // namespace kiln
