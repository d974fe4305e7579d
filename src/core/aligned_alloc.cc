#include "core/aligned_alloc.h"

#include <sys/mman.h>

#include <cstdlib>
#include <new>

namespace kiln {

void* aligned_allocate(size_t bytes) {
  if (bytes >= kMappedBytes) {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return p;
  }
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
