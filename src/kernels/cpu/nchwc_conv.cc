#include "kernels/cpu/nchwc_conv.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "core/aligned_buffer.h"
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

// A second thread is worth waking for a regular convolution of at least this many FLOPs (about
// 2 x 10 us of work; waking one costs about 10 us). Depthwise ones always split: their input was
// written by the threads that computed it, each in its own cache, and reading it all from one
// thread measured slower than waking the other (MobileNetV2's 7 x 7 blocks: 98 against 36 us).
constexpr double kMinFlopsToSplit = 4.5e6;

// Numbers each run of a padded convolution, so that a thread's copy of padded rows is known to
// belong to the run at hand (see Run::padded_rows).
std::atomic<uint64_t> g_padded_runs{0};

}  // namespace

// One run's layout, and the work of one band of lines for one group of output blocks.
struct PreparedNchwcConv::Run {
  const NchwcConvIsa& isa;
  const NchwcConvGeometry& g;
  const NchwcConvEpilogue& epilogue;
  float* y;
  const float* filters;
  const float* filters_end;
  const float* input = nullptr;  // x
  int64_t kernel_h = 0, kernel_w = 0, taps = 0, in_lanes = 0, in_channels = 0, in_blocks = 0, out_blocks = 0;
  bool depthwise = false, flat = false;
  // Regular convolutions with horizontal padding read copies of their input rows with the padding
  // written out (in_row pixels each), so that the inner loops never test bounds. Each thread
  // copies the rows its band reads, or, when its items are one group's bands (whole_image), the
  // whole image once per run: the copy is made where it is read, with no pass of its own.
  bool padded = false, whole_image = false;
  uint64_t run_id = 0;
  int64_t rows = 0, row_pixels = 0, in_h = 0, in_row = 0, ring_rows = 0, segment = 0, segments = 0;
  int64_t groups = 0, in_plane = 0, out_plane = 0, group_blocks = 0, group_filters = 0;
  // Input blocks are taken in chunks whose filters stay in L1 while the chunk sweeps all of a
  // band's lines, the partial sums waiting in the output: deep layers' filters (a 3x3 over 512
  // channels holds 590 KB per group) are then read once per band instead of once per line.
  int64_t chunk = 0, chunks = 0;

  struct Rows {
    const float* image;  // block 0 of the first row kept
    int64_t first_row, block_stride;
  };

  // Image n's input rows [first, last), padded, in a buffer the calling thread keeps and reuses
  // while a later item of the same run needs no other rows.
  Rows padded_rows(int64_t n, int64_t first, int64_t last) const {
    struct Kept {
      AlignedBuffer<float> rows;
      uint64_t run_id = 0;
      int64_t n = -1, first = 0, last = 0;
    };
    thread_local Kept kept;
    const int64_t L = in_lanes, row_floats = in_row * L, left = g.pad_left * L, used = g.in_w * L;
    if (kept.run_id != run_id || kept.n != n || first < kept.first || last > kept.last) {
      const int64_t count = last - first;
      kept.rows.resize_discarding(static_cast<size_t>(in_blocks * count * row_floats));
      for (int64_t b = 0; b < in_blocks; ++b)
        for (int64_t iy = first; iy < last; ++iy) {
          float* out = kept.rows.data() + (b * count + iy - first) * row_floats;
          const float* in = input + (n * in_blocks + b) * in_plane + iy * used;
          std::memset(out, 0, static_cast<size_t>(left) * sizeof(float));
          std::memcpy(out + left, in, static_cast<size_t>(used) * sizeof(float));
          std::memset(out + left + used, 0, static_cast<size_t>(row_floats - left - used) * sizeof(float));
        }
      kept.run_id = run_id;
      kept.n = n;
      kept.first = first;
      kept.last = last;
    }
    return {kept.rows.data(), kept.first, (kept.last - kept.first) * row_floats};
  }

  void compute_band(int64_t n, int64_t group, int64_t first_line, int64_t last_line) const {
    const int64_t B = isa.block, L = in_lanes;
    const int64_t first_block = group * group_blocks;
    Rows source{input + n * in_blocks * in_plane, 0, in_plane};
    if (padded) {
      const int64_t first = std::max<int64_t>(0, first_line * g.stride_h - g.pad_top);
      const int64_t last = std::min(in_h, (last_line - 1) * g.stride_h - g.pad_top + (kernel_h - 1) * g.dilation_h + 1);
      source = whole_image ? padded_rows(n, 0, in_h) : padded_rows(n, first, std::max(first, last));
    }
    NchwcConvRow row{};
    row.in_lanes = L;
    row.in_h = in_h;
    row.in_row = in_row;
    row.in_first_row = source.first_row;
    row.in_block_stride = source.block_stride;
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
      row.x = source.image + (depthwise ? first_block : first_in) * source.block_stride;
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
                                     int64_t kernel_h, int64_t kernel_w, bool depthwise, bool nchw_input,
                                     WeightStore& store)
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
    filters_ = store.get("filters", static_cast<size_t>(out_blocks * taps * B) * sizeof(float), [&](std::byte* out) {
      float* filters = reinterpret_cast<float*>(out);
      for (int64_t ch = 0; ch < out_channels; ++ch)
        for (int64_t tap = 0; tap < taps; ++tap) filters[((ch / B) * taps + tap) * B + ch % B] = w[ch * taps + tap];
    });
    return;
  }
  // Every group but perhaps the last holds kGroupBlocks blocks, so group g starts at block g * 2.
  const int64_t block_floats = in_blocks * taps * L * B;
  filters_ = store.get("filters", static_cast<size_t>(out_blocks * block_floats) * sizeof(float), [&](std::byte* out) {
    float* filters = reinterpret_cast<float*>(out);
    for (int64_t m = 0; m < out_channels; ++m) {
      const int64_t group = m / B / kGroupBlocks, g = m / B % kGroupBlocks;
      const int64_t group_blocks = std::min(kGroupBlocks, out_blocks - group * kGroupBlocks);
      float* dst = filters + group * kGroupBlocks * block_floats + g * B + m % B;
      for (int64_t ci = 0; ci < in_channels; ++ci)
        for (int64_t tap = 0; tap < taps; ++tap)
          dst[(((ci / L) * taps + tap) * L + ci % L) * group_blocks * B] = w[(m * in_channels + ci) * taps + tap];
    }
  });
}

PreparedNchwcConv::Run PreparedNchwcConv::plan_run(const float* x, const NchwcConvGeometry& g, float* y,
                                                   const NchwcConvEpilogue& epilogue, Planes planes) const {
  const NchwcConvIsa& isa = nchwc_conv_isa(level_);
  if (g.stride_w != 1 && g.stride_w != 2)
    throw Error(ErrorCode::NotImplemented, "NCHWc convolution: horizontal stride " + std::to_string(g.stride_w) +
                                               " (only 1 and 2 are supported)");
  Run r{isa, g, epilogue, y, filters_.as<float>(), filters_.as<float>() + filters_.count<float>()};
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
    r.run_id = g_padded_runs.fetch_add(1, std::memory_order_relaxed) + 1;
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
  Run r = plan_run(x, g, y, epilogue, {});
  // An item is a band of lines through every group: each input line is read once, and each
  // thread's part of the image is the one it wrote in the layer before (the pool gives a thread
  // the same part of every call). Filters larger than an image's input (deep layers) make items
  // group-major instead, so that a thread's consecutive items share their filters in cache and
  // the threads split the filters rather than each streaming all of them.
  const int64_t lines = r.rows * r.segments;
  const bool lines_outer = depthwise_ ? out_channels_ < g.in_h * g.in_w
                                      : static_cast<int64_t>(filters_.count<float>()) < r.in_blocks * r.in_plane;
  r.whole_image = !lines_outer;
  const int64_t outer = g.batch * (lines_outer ? 1 : r.groups);
  const int64_t wanted = std::clamp<int64_t>((kItemsPerThread * pool.size() + outer - 1) / outer, 1, lines);
  const int64_t band = (lines + wanted - 1) / wanted, bands = (lines + band - 1) / band;
  const double flops = 2.0 * static_cast<double>(g.batch) * static_cast<double>(g.out_h * g.out_w) *
                       static_cast<double>(out_channels_) * static_cast<double>(in_channels_ * r.taps);
  const int64_t items = outer * bands;
  const int64_t grain = depthwise_ || flops >= kMinFlopsToSplit ? 1 : items;
  pool.parallel_for(items, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t first_line = item % bands * band, last_line = std::min(lines, first_line + band);
      const int64_t n = item / bands / (lines_outer ? 1 : r.groups);
      if (!lines_outer) {
        r.compute_band(n, item / bands % r.groups, first_line, last_line);
        continue;
      }
      for (int64_t group = 0; group < r.groups; ++group) r.compute_band(n, group, first_line, last_line);
    }
  }, grain);
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
  const Run r = plan_run(x, g, y, epilogue, planes);
  if (r.flat && (first_row != 0 || last_row != g.out_h))
    throw Error(ErrorCode::InvalidArgument, "NCHWc convolution: a 1x1 plane runs whole, not rows of it");
  const int64_t first_line = r.flat ? 0 : first_row, last_line = r.flat ? r.segments : last_row;
  for (int64_t group = first_group; group < std::min(last_group, r.groups); ++group)
    r.compute_band(0, group, first_line, last_line);
}

}  // namespace kiln::kernels
