#include "kernels/cpu/nchwc_conv.h"

#include <algorithm>
#include <cstring>

#include "kernels/cpu/nchwc.h"
#include "kernels/cpu/nchwc_conv_isa.h"
#include "kiln/error.h"

namespace kiln::kernels {
namespace {

const NchwcConvIsa& nchwc_conv_isa(CpuLevel level) {
  switch (level) {
    case CpuLevel::Avx512: return nchwc_conv_isa_avx512();
    case CpuLevel::Avx2: return nchwc_conv_isa_avx2();
    case CpuLevel::Scalar: break;
  }
  return nchwc_conv_isa_scalar();
}

// Output blocks computed together: two share every input broadcast.
constexpr int64_t kGroupBlocks = 2;

// Rows of a 1x1 convolution's flattened plane are cut into segments of this many strips, so that
// the threads have work to share.
constexpr int64_t kStripsPerSegment = 8;

// Filter floats of one chunk of input blocks for one group: 32 KB of the 48 KB L1, the rest for
// the input lines the chunk reads.
constexpr int64_t kL1Filters = 8192;

// Work items per thread: enough to balance uneven items, few enough to keep each item's lines
// together.
constexpr int64_t kItemsPerThread = 4;

// The input with its horizontal padding written out: `row` pixels per row, column 0 being input
// column -pad_left; x's rows are in_w pixels apart within a block, blocks x_plane floats apart.
// Held by the calling thread and reused by its later runs. A null pool copies on the calling
// thread (a convolution over a band of rows, already inside a worker).
const float* pad_rows(const float* x, int64_t blocks, int64_t rows_per_block, int64_t x_plane, int64_t in_w,
                      int64_t pad_left, int64_t row, int64_t block, ThreadPool* pool) {
  thread_local AlignedBuffer<float> padded;
  const int64_t rows = blocks * rows_per_block;
  padded.resize_discarding(static_cast<size_t>(rows * row * block));
  float* dst = padded.data();
  auto copy = [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      float* out = dst + r * row * block;
      const float* in = x + r / rows_per_block * x_plane + r % rows_per_block * in_w * block;
      std::memset(out, 0, static_cast<size_t>(pad_left * block) * sizeof(float));
      std::memcpy(out + pad_left * block, in, static_cast<size_t>(in_w * block) * sizeof(float));
      std::memset(out + (pad_left + in_w) * block, 0, static_cast<size_t>((row - pad_left - in_w) * block) * sizeof(float));
    }
  };
  if (pool)
    pool->parallel_for(rows, copy, 16);
  else
    copy(0, rows);
  return dst;
}


}  // namespace

// One run's layout, and the work of one band of lines for one group of output blocks.
struct PreparedNchwcConv::Run {
  const NchwcConvIsa& isa;
  const NchwcConvGeometry& g;
  const NchwcConvEpilogue& epilogue;
  float* y;
  const float* filters;
  const float* filters_end;
  const float* input = nullptr;  // x, or its horizontally padded copy
  int64_t kernel_h = 0, kernel_w = 0, taps = 0, in_lanes = 0, in_channels = 0, in_blocks = 0, out_blocks = 0;
  bool depthwise = false, flat = false, padded = false;
  int64_t rows = 0, row_pixels = 0, in_h = 0, in_row = 0, ring_rows = 0, segment = 0, segments = 0;
  int64_t groups = 0, in_plane = 0, out_plane = 0, group_blocks = 0, group_filters = 0;
  // Input blocks are taken in chunks whose filters stay in L1 while the chunk sweeps all of a
  // band's lines, the partial sums waiting in the output: deep layers' filters (a 3x3 over 512
  // channels holds 590 KB per group) are then read once per band instead of once per line.
  int64_t chunk = 0, chunks = 0;

  void compute_band(int64_t n, int64_t group, int64_t first_line, int64_t last_line) const {
    const int64_t B = isa.block, L = in_lanes;
    const int64_t first_block = group * group_blocks;
    NchwcConvRow row{};
    row.in_lanes = L;
    row.in_h = in_h;
    row.in_row = in_row;
    row.in_block_stride = in_plane;
    row.ring_rows = ring_rows;
    row.blocks = std::min(group_blocks, out_blocks - first_block);
    row.kernel_h = kernel_h;
    row.kernel_w = kernel_w;
    row.dilation_h = g.dilation_h;
    row.dilation_w = g.dilation_w;
    row.stride_w = g.stride_w;
    row.pad_left = padded || flat ? 0 : g.pad_left;
    row.out_block_stride = out_plane;
    row.bias = epilogue.bias ? epilogue.bias + first_block * B : nullptr;
    row.activation = epilogue.activation;
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t first_in = c * chunk;
      row.x = input + n * in_blocks * in_plane + (depthwise ? first_block : first_in) * in_plane;
      row.in_blocks = depthwise ? 1 : std::min(chunk, in_blocks - first_in);
      row.in_channels = depthwise ? B : in_channels - first_in * L;
      row.w = filters + group * group_filters + first_in * taps * L * row.blocks * B;
      row.accumulate = c > 0;
      row.finish = c == chunks - 1;
      // The filters that come next (the next chunk, or the next group's first) are fetched into L2
      // while this chunk computes, a slice per line that the kernel spreads over its strips and
      // input blocks: deep layers' filters come from DRAM, the hardware prefetcher runs too short a
      // distance ahead to hide that, and a burst of prefetches overflows the miss queues.
      const int64_t chunk_floats = depthwise ? group_filters : row.in_blocks * taps * L * row.blocks * B;
      const int64_t next_offset = std::min<int64_t>(row.w - filters + chunk_floats, filters_end - filters);
      const float* next = filters + next_offset;
      const int64_t next_lines = std::min<int64_t>(chunk_floats, filters_end - next) / 16;
      const int64_t slice = (next_lines + (last_line - first_line) - 1) / (last_line - first_line);
      for (int64_t line = first_line; line < last_line; ++line) {
        row.prefetch_lines = std::clamp<int64_t>(next_lines - (line - first_line) * slice, 0, slice);
        row.prefetch = row.prefetch_lines ? next + (line - first_line) * slice * 16 : next;
        const int64_t oy = line / segments, s = line % segments;
        const int64_t out_offset = (n * out_blocks + first_block) * out_plane + oy * (flat ? 0 : g.out_w) * B;
        row.iy0 = flat ? 0 : oy * g.stride_h - g.pad_top;
        row.ox_begin = s * segment;
        row.ox_end = std::min(row_pixels, row.ox_begin + segment);
        row.y = y + out_offset;
        row.residual = epilogue.residual ? epilogue.residual + out_offset : nullptr;
        (depthwise ? isa.depthwise_row : isa.conv_row)(row);
      }
    }
  }
};

PreparedNchwcConv::PreparedNchwcConv(CpuLevel level, const float* w, int64_t out_channels, int64_t in_channels,
                                     int64_t kernel_h, int64_t kernel_w, bool depthwise, bool nchw_input)
    : level_(level),
      block_(nchwc_conv_isa(level).block),
      in_lanes_(nchw_input ? 1 : block_),
      in_channels_(in_channels),
      out_channels_(out_channels),
      kernel_h_(kernel_h),
      kernel_w_(kernel_w),
      depthwise_(depthwise) {
  if (depthwise && (in_channels != out_channels || nchw_input))
    throw Error(ErrorCode::InvalidArgument,
                "NCHWc depthwise convolution needs NCHWc input and as many output channels as input ones");
  const int64_t B = block_, L = in_lanes_, taps = kernel_h * kernel_w;
  const int64_t in_blocks = nchwc_blocks(in_channels, L), out_blocks = nchwc_blocks(out_channels, B);
  if (depthwise) {
    filters_.resize_discarding(static_cast<size_t>(out_blocks * taps * B));
    filters_.zero();
    for (int64_t ch = 0; ch < out_channels; ++ch)
      for (int64_t tap = 0; tap < taps; ++tap) filters_.data()[((ch / B) * taps + tap) * B + ch % B] = w[ch * taps + tap];
    return;
  }
  // Every group but perhaps the last holds kGroupBlocks blocks, so group g starts at block g * 2.
  const int64_t block_floats = in_blocks * taps * L * B;
  filters_.resize_discarding(static_cast<size_t>(out_blocks * block_floats));
  filters_.zero();
  for (int64_t m = 0; m < out_channels; ++m) {
    const int64_t group = m / B / kGroupBlocks, g = m / B % kGroupBlocks;
    const int64_t group_blocks = std::min(kGroupBlocks, out_blocks - group * kGroupBlocks);
    float* dst = filters_.data() + group * kGroupBlocks * block_floats + g * B + m % B;
    for (int64_t ci = 0; ci < in_channels; ++ci)
      for (int64_t tap = 0; tap < taps; ++tap)
        dst[(((ci / L) * taps + tap) * L + ci % L) * group_blocks * B] = w[(m * in_channels + ci) * taps + tap];
  }
}

PreparedNchwcConv::Run PreparedNchwcConv::plan_run(const float* x, const NchwcConvGeometry& g, float* y,
                                                   const NchwcConvEpilogue& epilogue, Planes planes,
                                                   ThreadPool* pool) const {
  const NchwcConvIsa& isa = nchwc_conv_isa(level_);
  if (g.stride_w != 1 && g.stride_w != 2)
    throw Error(ErrorCode::NotImplemented, "NCHWc convolution: horizontal stride " + std::to_string(g.stride_w) +
                                               " (only 1 and 2 are supported)");
  Run r{isa, g, epilogue, y, filters_.data(), filters_.data() + filters_.size()};
  const int64_t B = block_, L = in_lanes_;
  r.kernel_h = kernel_h_;
  r.kernel_w = kernel_w_;
  r.taps = kernel_h_ * kernel_w_;
  r.in_lanes = L;
  r.in_channels = in_channels_;
  r.in_blocks = nchwc_blocks(in_channels_, L);
  r.out_blocks = nchwc_blocks(out_channels_, B);
  r.depthwise = depthwise_;

  // A 1x1 convolution that keeps the plane's geometry is one long row of pixels.
  r.flat = kernel_h_ == 1 && kernel_w_ == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_top == 0 &&
           g.pad_left == 0 && g.out_h == g.in_h && g.out_w == g.in_w;
  r.rows = r.flat ? 1 : g.out_h;
  r.row_pixels = r.flat ? g.out_h * g.out_w : g.out_w;
  r.in_h = r.flat ? 1 : g.in_h;
  // Columns read past the right edge: the last output's last tap minus the last input column.
  const int64_t pad_right =
      std::max<int64_t>(0, (g.out_w - 1) * g.stride_w + (kernel_w_ - 1) * g.dilation_w - g.pad_left - (g.in_w - 1));
  const int64_t x_plane = planes.in ? planes.in : g.in_h * g.in_w * L;
  r.in_row = r.flat ? g.in_h * g.in_w : g.in_w;
  r.in_plane = x_plane;
  r.ring_rows = planes.ring_rows;
  r.input = x;
  r.padded = !r.flat && !depthwise_ && (g.pad_left > 0 || pad_right > 0);
  if (r.padded) {
    r.in_row = g.pad_left + g.in_w + pad_right;
    r.in_plane = g.in_h * r.in_row * L;
    r.input = pad_rows(x, g.batch * r.in_blocks, g.in_h, x_plane, g.in_w, g.pad_left, r.in_row, L, pool);
  }

  r.segment = r.flat ? isa.max_pixels * kStripsPerSegment : r.row_pixels;
  r.segments = (r.row_pixels + r.segment - 1) / r.segment;
  r.groups = depthwise_ ? r.out_blocks : (r.out_blocks + kGroupBlocks - 1) / kGroupBlocks;
  r.out_plane = planes.out ? planes.out : g.out_h * g.out_w * B;
  r.group_blocks = depthwise_ ? 1 : kGroupBlocks;
  r.group_filters = depthwise_ ? r.taps * B : kGroupBlocks * r.in_blocks * r.taps * L * B;
  r.chunk = depthwise_ ? 1 : std::clamp<int64_t>(kL1Filters / (r.taps * L * kGroupBlocks * B), 1, r.in_blocks);
  r.chunks = depthwise_ ? 1 : (r.in_blocks + r.chunk - 1) / r.chunk;
  return r;
}

void PreparedNchwcConv::run(const float* x, const NchwcConvGeometry& g, float* y, const NchwcConvEpilogue& epilogue,
                            ThreadPool& pool) const {
  if (g.batch == 0 || g.out_h == 0 || g.out_w == 0) return;
  const Run r = plan_run(x, g, y, epilogue, {}, &pool);
  // Items run group-major, so that a thread's consecutive items share their filters in cache,
  // unless the filters are smaller than an image's input (1x1 reductions over many channels): then
  // an item is a band of lines through every group, and each input line is read once.
  const int64_t lines = r.rows * r.segments;
  const bool lines_outer = !depthwise_ && static_cast<int64_t>(filters_.size()) < r.in_blocks * r.in_plane;
  const int64_t outer = g.batch * (lines_outer ? 1 : r.groups);
  const int64_t wanted = std::clamp<int64_t>((kItemsPerThread * pool.size() + outer - 1) / outer, 1, lines);
  const int64_t band = (lines + wanted - 1) / wanted, bands = (lines + band - 1) / band;
  pool.parallel_for(outer * bands, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t first_line = item % bands * band, last_line = std::min(lines, first_line + band);
      const int64_t n = item / bands / (lines_outer ? 1 : r.groups);
      if (!lines_outer) {
        r.compute_band(n, item / bands % r.groups, first_line, last_line);
        continue;
      }
      for (int64_t group = 0; group < r.groups; ++group) r.compute_band(n, group, first_line, last_line);
    }
  });
}

void PreparedNchwcConv::run_rows(const float* x, const NchwcConvGeometry& g, float* y, const NchwcConvEpilogue& epilogue,
                                 int64_t first_row, int64_t last_row, int64_t first_group, int64_t last_group,
                                 Planes planes) const {
  if (planes.ring_rows && !depthwise_)
    throw Error(ErrorCode::InvalidArgument, "NCHWc convolution: only a depthwise one reads a ring of rows");
  if (first_row < 0 || last_row > g.out_h || first_group < 0)
    throw Error(ErrorCode::InvalidArgument, "NCHWc convolution: rows [" + std::to_string(first_row) + ", " +
                                                std::to_string(last_row) + ") of " + std::to_string(g.out_h));
  if (first_row >= last_row || first_group >= last_group) return;
  const Run r = plan_run(x, g, y, epilogue, planes, nullptr);
  if (r.flat && (first_row != 0 || last_row != g.out_h))
    throw Error(ErrorCode::InvalidArgument, "NCHWc convolution: a 1x1 plane runs whole, not rows of it");
  const int64_t first_line = r.flat ? 0 : first_row, last_line = r.flat ? r.segments : last_row;
  for (int64_t group = first_group; group < std::min(last_group, r.groups); ++group)
    r.compute_band(0, group, first_line, last_line);
}

}  // namespace kiln::kernels
