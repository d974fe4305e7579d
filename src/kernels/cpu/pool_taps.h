// The taps of a 2-D pooling window that fall inside the input (or the padded input), and how max
// and sum combine them: shared by the NCHW plane kernels (pool_vec.h) and the NCHWc kernels
// (nchwc_pool_*), so that both count padding and order taps exactly as the reference does.
//
// Internal linkage and builtins only, for the reason given in vec_math.h.
#pragma once

#include <cstdint>

namespace kiln::kernels {
namespace {

inline int64_t min_i64(int64_t a, int64_t b) { return a < b ? a : b; }

// Taps [begin, end) of a window starting at coordinate `start` that fall inside [0, size).
struct TapRange {
  int64_t begin, end;
  int64_t count() const { return end - begin; }
};

inline TapRange taps_inside(int64_t start, int64_t kernel, int64_t dilation, int64_t size) {
  const int64_t begin = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
  const int64_t end = start >= size ? 0 : min_i64(kernel, (size - start + dilation - 1) / dilation);
  return {begin, end > begin ? end : begin};
}

// Taps of the window inside the padded input, which ends pad_end past the input.
inline int64_t taps_inside_padding(int64_t start, int64_t kernel, int64_t dilation, int64_t size, int64_t pad_end) {
  const int64_t limit = size + pad_end - start;
  return limit <= 0 ? 0 : min_i64(kernel, (limit + dilation - 1) / dilation);
}

// Max keeps the first of equal values and skips a NaN that is not first, as the reference does.
// combine takes floats or GCC vectors of floats (lane by lane).
struct MaxTaps {
  static constexpr float kEmpty = -3.40282347e+38f;  // the reference's value for a window with no tap
  template <class T>
  static T combine(T acc, T v) { return v > acc ? v : acc; }
};
struct SumTaps {
  static constexpr float kEmpty = 0.f;
  template <class T>
  static T combine(T acc, T v) { return acc + v; }
};

}  // namespace
}  // namespace kiln::kernels
