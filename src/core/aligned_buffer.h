// A move-only array of trivially copyable T on 64-byte aligned storage (one cache line, one
// AVX-512 register): packed weights and per-thread scratch, which vector loads read aligned.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

namespace kiln {

template <class T>
class AlignedBuffer {
 public:
  static constexpr size_t kAlignment = 64;

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
    const size_t bytes = (count * sizeof(T) + kAlignment - 1) / kAlignment * kAlignment;
    void* p = std::aligned_alloc(kAlignment, bytes);
    if (!p) throw std::bad_alloc();
    data_.reset(static_cast<T*>(p));
    size_ = capacity_ = count;
  }
  void zero() { std::memset(static_cast<void*>(data_.get()), 0, size_ * sizeof(T)); }

  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T, Free> data_;
  size_t size_ = 0, capacity_ = 0;
};

}  // namespace kiln
