// Naive direct loops that conv and pool tests compare against. They work in three spatial dims;
// a 1-D or 2-D case is the same case with leading spatial dims of size 1.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kiln/tensor.h"

namespace kiln::testing {

struct NaiveWindow {
  std::vector<int64_t> kernel, strides, dilations, pads_begin, pads_end;  // one value per spatial dim
};

// A tensor [N, C, spatial...] seen as [N, C, D, H, W]; `rank` is its number of spatial dims.
struct Volume {
  const Tensor& t;
  size_t rank = t.rank() - 2;
  std::array<int64_t, 3> dims = spatial3(t.shape(), 2);
  int64_t plane() const { return dims[0] * dims[1] * dims[2]; }
  int64_t offset(int64_t n, int64_t c, const std::array<int64_t, 3>& i) const {
    return ((n * t.dim(1) + c) * dims[0] + i[0]) * dims[1] * dims[2] + i[1] * dims[2] + i[2];
  }

  // The last dims of `shape` from `first` on, padded in front with 1 to three dims.
  static std::array<int64_t, 3> spatial3(const Shape& shape, size_t first) {
    std::array<int64_t, 3> out = {1, 1, 1};
    const size_t count = shape.size() - first;
    for (size_t d = 0; d < count; ++d) out[3 - count + d] = shape[first + d];
    return out;
  }
};

// A node's strides, dilations and pads attributes for this window; those left empty are absent.
inline std::map<std::string, ir::Attribute> window_node_attributes(const NaiveWindow& w) {
  std::map<std::string, ir::Attribute> a;
  if (!w.strides.empty()) a["strides"] = w.strides;
  if (!w.dilations.empty()) a["dilations"] = w.dilations;
  if (!w.pads_begin.empty()) {
    std::vector<int64_t> pads = w.pads_begin;
    pads.insert(pads.end(), w.pads_end.begin(), w.pads_end.end());
    a["pads"] = pads;
  }
  return a;
}

// The window's parameters padded in front to three dims (kernel, stride, dilation 1; pads 0).
struct Window3 {
  std::array<int64_t, 3> kernel{1, 1, 1}, strides{1, 1, 1}, dilations{1, 1, 1}, pads_begin{0, 0, 0}, pads_end{0, 0, 0};
  explicit Window3(const NaiveWindow& w) {
    const size_t lead = 3 - w.kernel.size();
    for (size_t d = 0; d < w.kernel.size(); ++d) {
      kernel[lead + d] = w.kernel[d];
      strides[lead + d] = w.strides.empty() ? 1 : w.strides[d];
      dilations[lead + d] = w.dilations.empty() ? 1 : w.dilations[d];
      pads_begin[lead + d] = w.pads_begin.empty() ? 0 : w.pads_begin[d];
      pads_end[lead + d] = w.pads_end.empty() ? 0 : w.pads_end[d];
    }
  }
  int64_t extent(size_t d) const { return (kernel[d] - 1) * dilations[d] + 1; }
  // The input position that window position o reads through tap k (may lie in the padding).
  std::array<int64_t, 3> tap(const std::array<int64_t, 3>& o, const std::array<int64_t, 3>& k) const {
    std::array<int64_t, 3> i{};
    for (size_t d = 0; d < 3; ++d) i[d] = o[d] * strides[d] - pads_begin[d] + k[d] * dilations[d];
    return i;
  }
};

// True when every coordinate of `index` lies inside `dims` grown by `low` before and `high` after.
inline bool inside(const std::array<int64_t, 3>& index, const std::array<int64_t, 3>& dims,
                   const std::array<int64_t, 3>& low = {0, 0, 0}, const std::array<int64_t, 3>& high = {0, 0, 0}) {
  for (size_t d = 0; d < 3; ++d)
    if (index[d] < -low[d] || index[d] >= dims[d] + high[d]) return false;
  return true;
}

// Calls fn(index) for every index of a 3-D box.
template <class F>
void for_each_index3(const std::array<int64_t, 3>& box, F&& fn) {
  for (int64_t a = 0; a < box[0]; ++a)
    for (int64_t b = 0; b < box[1]; ++b)
      for (int64_t c = 0; c < box[2]; ++c) fn(std::array<int64_t, 3>{a, b, c});
}

// Output shape [N, channels, spatial...] with the last `rank` of the three spatial dims.
inline Shape shape_from3(int64_t n, int64_t channels, const std::array<int64_t, 3>& spatial, size_t rank) {
  Shape s = {n, channels};
  for (size_t d = 3 - rank; d < 3; ++d) s.push_back(spatial[d]);
  return s;
}

}  // namespace kiln::testing
