#include "kernels/cpu/nchwc_reorder.h"

#include <algorithm>

#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/nchwc.h"

namespace kiln::kernels {
namespace {

// Pixels per tile: 64 pixels of 16 channels are 4 KiB each way.
constexpr int64_t kPixelTile = 64;

// One tile: `pixels` pixels of `channels` real channels, starting at offset `plain` of the NCHW
// tensor (channel planes shape.pixels apart) and at offset `blocked` of the NCHWc one.
struct ReorderTile {
  int64_t plain, blocked, pixels, channels;
};

// Calls copy(tile) for every tile, tiles split over the pool.
template <class Copy>
void for_each_tile(const NchwcReorderShape& s, ThreadPool& pool, Copy&& copy) {
  const int64_t blocks = nchwc_blocks(s.channels, s.block);
  const int64_t tiles = (s.pixels + kPixelTile - 1) / kPixelTile;
  pool.parallel_for(
      s.batch * blocks * tiles,
      [&](int64_t begin, int64_t end) {
        for (int64_t item = begin; item < end; ++item) {
          const int64_t image_block = item / tiles, n = image_block / blocks;
          const int64_t c0 = image_block % blocks * s.block, p0 = item % tiles * kPixelTile;
          copy(ReorderTile{(n * s.channels + c0) * s.pixels + p0, (image_block * s.pixels + p0) * s.block,
                           std::min(kPixelTile, s.pixels - p0), std::min(s.block, s.channels - c0)});
        }
      },
      std::max<int64_t>(1, kElementwiseGrain / (kPixelTile * s.block)));
}

// dst[c * dst_ld + r] = src[r * src_ld + c] for r < rows, c < cols: the vector transpose where
// there is one, else a plain loop (the reference).
void transpose(const VecIsa* isa, const float* src, int64_t src_ld, float* dst, int64_t dst_ld, int64_t rows,
               int64_t cols) {
  if (isa)
    return isa->transpose_32(reinterpret_cast<const uint32_t*>(src), src_ld, reinterpret_cast<uint32_t*>(dst), dst_ld,
                             rows, cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) dst[c * dst_ld + r] = src[r * src_ld + c];
}

}  // namespace

void nchwc_reorder_input(const float* x, float* y, const NchwcReorderShape& s, const VecIsa* isa, ThreadPool& pool) {
  for_each_tile(s, pool, [&](const ReorderTile& t) {
    float* blocked = y + t.blocked;
    transpose(isa, x + t.plain, s.pixels, blocked, s.block, t.channels, t.pixels);
    if (t.channels < s.block)
      for (int64_t p = 0; p < t.pixels; ++p) std::fill_n(blocked + p * s.block + t.channels, s.block - t.channels, 0.f);
  });
}

void nchwc_reorder_output(const float* x, float* y, const NchwcReorderShape& s, const VecIsa* isa, ThreadPool& pool) {
  for_each_tile(s, pool, [&](const ReorderTile& t) {
    transpose(isa, x + t.blocked, s.block, y + t.plain, s.pixels, t.pixels, t.channels);
  });
}

}  // namespace kiln::kernels
