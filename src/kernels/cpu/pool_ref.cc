#include "kernels/cpu/pool_ref.h"

#include <cmath>
#include <limits>

namespace kiln::kernels {
namespace {

// Walks every window position of one plane in row-major order: begin(), then tap(input_offset,
// coordinates) for each tap inside the input, then end(position, padded_taps), padded_taps being
// the count of taps inside the padded input.
template <class Begin, class Tap, class End>
void walk_windows(const WindowGeometry& g, Begin&& begin, Tap&& tap, End&& end) {
  const size_t rank = g.rank();
  std::vector<int64_t> input_strides(rank, 1);
  for (size_t d = rank - 1; d-- > 0;) input_strides[d] = input_strides[d + 1] * g.input[d + 1];
  std::vector<int64_t> position(rank, 0), start(rank), tap_begin(rank), tap_end(rank), k(rank), coordinates(rank);

  const int64_t positions = g.output_size();
  for (int64_t p = 0; p < positions; ++p) {
    int64_t padded_taps = 1;
    bool empty = false;
    for (size_t d = 0; d < rank; ++d) {
      const int64_t s = position[d] * g.strides[d] - g.pads_begin[d], dilation = g.dilations[d];
      start[d] = s;
      // Taps k read coordinate s + k * dilation; keep those in [0, input) and count those in the padded range.
      tap_begin[d] = s >= 0 ? 0 : (-s + dilation - 1) / dilation;
      tap_end[d] = s >= g.input[d] ? 0 : std::min(g.kernel[d], (g.input[d] - s + dilation - 1) / dilation);
      const int64_t padded_limit = g.input[d] + g.pads_end[d] - s;
      padded_taps *= padded_limit <= 0 ? 0 : std::min(g.kernel[d], (padded_limit + dilation - 1) / dilation);
      empty = empty || tap_begin[d] >= tap_end[d];
    }
    begin();
    k = tap_begin;
    for (bool more = !empty; more;) {
      int64_t offset = 0;
      for (size_t d = 0; d < rank; ++d) {
        coordinates[d] = start[d] + k[d] * g.dilations[d];
        offset += coordinates[d] * input_strides[d];
      }
      tap(offset, coordinates);
      more = false;
      for (size_t d = rank; d-- > 0 && !more;) {
        more = ++k[d] < tap_end[d];
        if (!more) k[d] = tap_begin[d];
      }
    }
    end(p, padded_taps);
    for (size_t d = rank; d-- > 0;) {
      if (++position[d] < g.output[d]) break;
      position[d] = 0;
    }
  }
}

// Runs plane_fn(plane) for every plane, planes split over the pool.
template <class F>
void for_each_plane(int64_t planes, ThreadPool& pool, F&& plane_fn) {
  pool.parallel_for(planes, [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) plane_fn(plane);
  });
}

// Sums f(x) over each window's taps inside the input and writes finish(sum, count, padded_taps).
template <class Value, class Finish>
void sum_pool(const float* x, float* y, int64_t planes, const WindowGeometry& g, ThreadPool& pool, Value&& value,
              Finish&& finish) {
  const int64_t input_size = g.input_size(), output_size = g.output_size();
  for_each_plane(planes, pool, [&](int64_t plane) {
    const float* xp = x + plane * input_size;
    float* yp = y + plane * output_size;
    float sum = 0.f;
    int64_t count = 0;
    walk_windows(
        g, [&] { sum = 0.f, count = 0; },
        [&](int64_t offset, const std::vector<int64_t>&) { sum += value(xp[offset]), ++count; },
        [&](int64_t position, int64_t padded_taps) { yp[position] = finish(sum, count, padded_taps); });
  });
}

}  // namespace

template <class T>
void compute_max_pool(const T* x, T* y, int64_t* indices, bool column_major_indices, int64_t planes,
                      const WindowGeometry& g, ThreadPool& pool) {
  const size_t rank = g.rank();
  std::vector<int64_t> column_major_strides(rank, 1);
  for (size_t d = 1; d < rank; ++d) column_major_strides[d] = column_major_strides[d - 1] * g.input[d - 1];
  const int64_t input_size = g.input_size(), output_size = g.output_size();
  for_each_plane(planes, pool, [&](int64_t plane) {
    const T* xp = x + plane * input_size;
    T* yp = y + plane * output_size;
    T best{};
    int64_t best_offset = -1;
    std::vector<int64_t> best_coordinates(rank);
    walk_windows(
        g, [&] { best_offset = -1; },
        [&](int64_t offset, const std::vector<int64_t>& coordinates) {
          if (best_offset >= 0 && !(xp[offset] > best)) return;
          best = xp[offset];
          best_offset = offset;
          if (column_major_indices) best_coordinates = coordinates;
        },
        [&](int64_t position, int64_t) {
          // A window entirely in the padding (possible with dilations) has no maximum: lowest, index -1.
          yp[position] = best_offset >= 0 ? best : std::numeric_limits<T>::lowest();
          if (!indices) return;
          int64_t index = best_offset;
          if (column_major_indices && best_offset >= 0) {
            index = 0;
            for (size_t d = 0; d < rank; ++d) index += best_coordinates[d] * column_major_strides[d];
          }
          indices[plane * output_size + position] = best_offset >= 0 ? plane * input_size + index : -1;
        });
  });
}

template void compute_max_pool<float>(const float*, float*, int64_t*, bool, int64_t, const WindowGeometry&, ThreadPool&);
template void compute_max_pool<uint8_t>(const uint8_t*, uint8_t*, int64_t*, bool, int64_t, const WindowGeometry&,
                                        ThreadPool&);
template void compute_max_pool<int8_t>(const int8_t*, int8_t*, int64_t*, bool, int64_t, const WindowGeometry&,
                                       ThreadPool&);

void compute_average_pool(const float* x, float* y, bool count_include_pad, int64_t planes, const WindowGeometry& g,
                          ThreadPool& pool) {
  sum_pool(
      x, y, planes, g, pool, [](float v) { return v; },
      [&](float sum, int64_t count, int64_t padded_taps) {
        const int64_t divisor = count_include_pad ? padded_taps : count;
        return divisor > 0 ? sum / static_cast<float>(divisor) : 0.f;
      });
}

void compute_lp_pool(const float* x, float* y, float p, int64_t planes, const WindowGeometry& g, ThreadPool& pool) {
  sum_pool(
      x, y, planes, g, pool, [p](float v) { return std::pow(std::abs(v), p); },
      [p](float sum, int64_t, int64_t) { return std::pow(sum, 1.f / p); });
}

}  // namespace kiln::kernels
