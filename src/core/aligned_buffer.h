// A move-only array of trivially copyable T on 64-byte aligned storage (core/aligned_alloc.h):
// packed weights and per-thread scratch, which vector loads read aligned.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <new>

#include "core/aligned_alloc.h"

namespace kiln {

template <class T>
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t count) { resize_discarding(count); }

  // Makes room for `count` elements; old contents are lost when it has to grow.
  void resize_discarding(size_t count) {
    if (count <= capacity_) {
      size_ = count;
      return;
    }
    // A size computed from hostile attributes must fail here, not wrap into a small allocation.
    if (count > (SIZE_MAX - kAlignment) / sizeof(T)) throw std::bad_alloc();
    const size_t bytes = count * sizeof(T);
    data_ = std::unique_ptr<T, Free>(static_cast<T*>(aligned_allocate(bytes)), Free{bytes});
    size_ = capacity_ = count;
  }
  void zero() { std::memset(static_cast<void*>(data_.get()), 0, size_ * sizeof(T)); }

  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  size_t size() const { return size_; }

 private:
  struct Free {
    size_t bytes = 0;
    void operator()(T* p) const { aligned_free(p, bytes); }
  };
  std::unique_ptr<T, Free> data_;
  size_t size_ = 0, capacity_ = 0;
};

}  // namespace kiln
