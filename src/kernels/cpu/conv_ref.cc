#include "kernels/cpu/conv_ref.h"

#include <algorithm>
#include <functional>
#include <memory>

#include "kernels/cpu/gemm_ref.h"
#include "kernels/cpu/quant_ref.h"

namespace kiln::kernels {
namespace {

using RangeFn = std::function<void(int64_t, int64_t)>;

// Splits [0, n) over `pool`, or runs it inline when the caller is already one of many parallel jobs.
void parallel_range(ThreadPool* pool, int64_t n, const RangeFn& fn) {
  if (pool)
    pool->parallel_for(n, fn);
  else
    fn(0, n);
}

// Left uninitialized: im2col and the transposed GEMM write every element before it is read.
template <class T>
std::unique_ptr<T[]> allocate_scratch(int64_t elements) {
  if (elements > Tensor::kMaxBytes / static_cast<int64_t>(sizeof(T)))
    throw Error(ErrorCode::InvalidArgument,
                "convolution scratch of " + std::to_string(elements) + " elements is too large");
  return std::make_unique_for_overwrite<T[]>(static_cast<size_t>(elements));
}

// Runs job(j, scratch, inner_pool) for every (image, group) pair j. With at least one job per
// thread the jobs themselves run in parallel, each chunk with its own scratch; otherwise they run
// in turn and each parallelizes inside through inner_pool.
template <class T>
void run_group_jobs(int64_t jobs, int64_t scratch_elements, ThreadPool& pool,
                    const std::function<void(int64_t, T*, ThreadPool*)>& job) {
  if (jobs >= pool.size()) {
    pool.parallel_for(jobs, [&](int64_t begin, int64_t end) {
      const auto scratch = allocate_scratch<T>(scratch_elements);
      for (int64_t j = begin; j < end; ++j) job(j, scratch.get(), nullptr);
    });
    return;
  }
  const auto scratch = allocate_scratch<T>(scratch_elements);
  for (int64_t j = 0; j < jobs; ++j) job(j, scratch.get(), &pool);
}

void unravel(int64_t flat, const std::vector<int64_t>& dims, int64_t* index) {
  for (size_t d = dims.size(); d-- > 0;) {
    index[d] = flat % dims[d];
    flat /= dims[d];
  }
}

// A 1x1 window with unit strides and no padding reads X as it is: im2col would copy it unchanged.
bool is_pointwise(const WindowGeometry& g) {
  for (size_t d = 0; d < g.rank(); ++d)
    if (g.kernel[d] != 1 || g.strides[d] != 1 || g.pads_begin[d] != 0 || g.pads_end[d] != 0) return false;
  return true;
}

// Column-matrix row r = channel * kernel_size + tap holds, for every window position, the input
// value under that tap (`pad` in the padding). Fills rows [row_begin, row_end) of `col` from one group.
template <class T>
void im2col_rows(const T* x, const WindowGeometry& g, T pad, int64_t row_begin, int64_t row_end, T* col) {
  const int64_t taps = g.kernel_size(), positions = g.output_size();
  std::vector<int64_t> tap(g.rank());
  for (int64_t r = row_begin; r < row_end; ++r) {
    unravel(r % taps, g.kernel, tap.data());
    const T* plane = x + (r / taps) * g.input_size();
    T* row = col + r * positions;
    int64_t written = 0;  // the runs come in increasing order; pad the gaps between them
    for_each_tap_run(g, tap.data(), [&](int64_t first, int64_t count, int64_t offset, int64_t step) {
      std::fill(row + written, row + first, pad);
      for (int64_t i = 0; i < count; ++i) row[first + i] = plane[offset + i * step];
      written = first + count;
    });
    std::fill(row + written, row + positions, pad);
  }
}

// Runs a convolution as one GEMM per (image, group): gemm(n, first, count, columns) computes the
// `count` output channels from absolute channel `first` of image n, as W's rows for those channels
// times `columns` [group_in * kernel_size, positions]: the im2col of the group's input channels
// (padded with `pad`), or the input itself when the window is pointwise.
template <class T, class Gemm>
void conv_by_im2col(const T* x, const ConvShape& shape, T pad, ThreadPool& pool, const Gemm& gemm) {
  const WindowGeometry& g = shape.geometry;
  const int64_t group_in = shape.in_channels / shape.groups, group_out = shape.out_channels / shape.groups;
  const int64_t depth = group_in * g.kernel_size();
  const bool pointwise = is_pointwise(g);
  run_group_jobs<T>(shape.batch * shape.groups, pointwise ? 0 : depth * g.output_size(), pool,
                    [&](int64_t job, T* col, ThreadPool* inner) {
                      const int64_t n = job / shape.groups, group = job % shape.groups;
                      const T* xg = x + (n * shape.in_channels + group * group_in) * g.input_size();
                      if (!pointwise)
                        parallel_range(inner, depth,
                                       [&](int64_t begin, int64_t end) { im2col_rows(xg, g, pad, begin, end, col); });
                      parallel_range(inner, group_out, [&](int64_t begin, int64_t end) {
                        gemm(n, group * group_out + begin, end - begin, pointwise ? xg : col);
                      });
                    });
}

// The adjoint of im2col_rows: adds every column-matrix value back to the position its tap reads.
// Covers whole channels [channel_begin, channel_end) so that parallel calls write disjoint planes.
void col2im_channels(const float* col, const WindowGeometry& g, int64_t channel_begin, int64_t channel_end, float* y) {
  const int64_t taps = g.kernel_size(), positions = g.output_size();
  std::vector<int64_t> tap(g.rank());
  for (int64_t c = channel_begin; c < channel_end; ++c) {
    float* plane = y + c * g.input_size();
    for (int64_t t = 0; t < taps; ++t) {
      unravel(t, g.kernel, tap.data());
      const float* row = col + (c * taps + t) * positions;
      for_each_tap_run(g, tap.data(), [&](int64_t first, int64_t count, int64_t offset, int64_t step) {
        for (int64_t i = 0; i < count; ++i) plane[offset + i * step] += row[first + i];
      });
    }
  }
}

void fill_bias(float* y, const float* bias, int64_t channel_begin, int64_t channel_end, int64_t plane_size) {
  for (int64_t c = channel_begin; c < channel_end; ++c)
    std::fill(y + c * plane_size, y + (c + 1) * plane_size, bias ? bias[c] : 0.f);
}

}  // namespace

void compute_conv(const float* x, const float* w, const float* bias, float* y, const ConvShape& shape,
                  ThreadPool& pool) {
  const int64_t depth = shape.in_channels / shape.groups * shape.geometry.kernel_size();  // the GEMM's K
  const int64_t positions = shape.geometry.output_size();
  conv_by_im2col(x, shape, 0.f, pool, [&](int64_t n, int64_t first, int64_t count, const float* columns) {
    float* rows = y + (n * shape.out_channels + first) * positions;
    fill_bias(rows, bias ? bias + first : nullptr, 0, count, positions);
    gemm_ref(false, false, count, positions, depth, 1.f, w + first * depth, depth, columns, positions, 1.f, rows,
             positions);
  });
}

template <class TX, class TW>
void compute_conv_integer(const TX* x, int32_t x_zero_point, const TW* w, const int32_t* w_zero_points, int32_t* y,
                          const ConvShape& shape, ThreadPool& pool) {
  const int64_t depth = shape.in_channels / shape.groups * shape.geometry.kernel_size();
  const int64_t positions = shape.geometry.output_size();
  // Every column of the column matrix is quantized with X's zero point.
  const std::vector<int32_t> column_zero_points(static_cast<size_t>(positions), x_zero_point);
  conv_by_im2col(x, shape, static_cast<TX>(x_zero_point), pool,
                 [&](int64_t n, int64_t first, int64_t count, const TX* columns) {
                   gemm_integer_ref(count, positions, depth, w + first * depth, w_zero_points + first, columns,
                                    column_zero_points.data(), y + (n * shape.out_channels + first) * positions);
                 });
}

template void compute_conv_integer(const uint8_t*, int32_t, const uint8_t*, const int32_t*, int32_t*,
                                   const ConvShape&, ThreadPool&);
template void compute_conv_integer(const uint8_t*, int32_t, const int8_t*, const int32_t*, int32_t*,
                                   const ConvShape&, ThreadPool&);
template void compute_conv_integer(const int8_t*, int32_t, const uint8_t*, const int32_t*, int32_t*,
                                   const ConvShape&, ThreadPool&);
template void compute_conv_integer(const int8_t*, int32_t, const int8_t*, const int32_t*, int32_t*,
                                   const ConvShape&, ThreadPool&);

void compute_conv_transpose(const float* x, const float* w, const float* bias, float* y, const ConvShape& shape,
                            ThreadPool& pool) {
  const WindowGeometry& g = shape.geometry;
  const int64_t group_in = shape.in_channels / shape.groups, group_out = shape.out_channels / shape.groups;
  const int64_t rows = group_out * g.kernel_size();
  const int64_t positions = g.output_size(), output_size = g.input_size();
  run_group_jobs<float>(shape.batch * shape.groups, rows * positions, pool, [&](int64_t job, float* col, ThreadPool* inner) {
    const int64_t n = job / shape.groups, group = job % shape.groups;
    const float* xg = x + (n * shape.in_channels + group * group_in) * positions;
    const float* wg = w + group * group_in * rows;
    float* yg = y + (n * shape.out_channels + group * group_out) * output_size;
    // col = Wg^T Xg: row (m, tap) holds what input positions contribute through that tap.
    parallel_range(inner, rows, [&](int64_t begin, int64_t end) {
      gemm_ref(true, false, end - begin, positions, group_in, 1.f, wg + begin, rows, xg, positions, 0.f,
               col + begin * positions, positions);
    });
    parallel_range(inner, group_out, [&](int64_t begin, int64_t end) {
      fill_bias(yg, bias ? bias + group * group_out : nullptr, begin, end, output_size);
      col2im_channels(col, g, begin, end, yg);
    });
  });
}

}  // namespace kiln::kernels
