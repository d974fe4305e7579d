// The NCHWc convolution's row kernels, written once over a level's vector type and compiled by
// nchwc_conv_<level>.cc with that instruction set. Internal linkage for the reason given in
// tile_epilogue.h: per-ISA copies must never be merged.
//
// Vec provides: V (kBlock floats), kBlock, kMaxPixels (the widest strip whose accumulators, two
// filter vectors and a broadcast fit the register file), and zero, load, store, broadcast, fma,
// add, max, min and leaky_relu on V. Every loop below has compile-time bounds so that the
// accumulators stay in registers and every load folds into an FMA with a constant offset.
#pragma once

#include <algorithm>
#include <array>
#include <utility>

#include "kernels/cpu/nchwc_conv_isa.h"
#include "kernels/cpu/tile_epilogue.h"

namespace kiln::kernels {
namespace {

using NchwcTileFn = void (*)(const NchwcConvRow& row, int64_t ox);

template <class Vec>
inline typename Vec::V activate_in_registers(typename Vec::V v, const Activation& act) {
  switch (act.kind) {
    case ActivationKind::Relu: return Vec::max(v, Vec::zero());
    case ActivationKind::Clip: return Vec::min(Vec::max(v, Vec::broadcast(act.alpha)), Vec::broadcast(act.beta));
    case ActivationKind::LeakyRelu: return Vec::leaky_relu(v, act.alpha);
    default: return v;
  }
}

// Bias, residual and activation on a P x G tile, then its store: pixel p of block g goes to
// y[g * out_block_stride + (ox + p) * block]. Activations that do not fit registers run over the
// stored tile while it is in L1 (each block's P pixels are contiguous).
template <class Vec, int P, int G>
inline void store_tile(typename Vec::V (&acc)[P][G], const NchwcConvRow& r, int64_t ox) {
  constexpr int B = Vec::kBlock;
  if (!r.finish) {
#pragma GCC unroll 2
    for (int g = 0; g < G; ++g)
#pragma GCC unroll 16
      for (int p = 0; p < P; ++p) Vec::store(r.y + g * r.out_block_stride + (ox + p) * B, acc[p][g]);
    return;
  }
  const bool in_registers = activation_fits_registers(r.activation.kind);
#pragma GCC unroll 2
  for (int g = 0; g < G; ++g) {
    const typename Vec::V bias = r.bias ? Vec::load(r.bias + g * B) : Vec::zero();
    float* out = r.y + g * r.out_block_stride + ox * B;
    const float* residual = r.residual ? r.residual + g * r.out_block_stride + ox * B : nullptr;
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) {
      typename Vec::V v = Vec::add(acc[p][g], bias);
      if (residual) v = Vec::add(v, Vec::load(residual + p * B));
      if (in_registers) v = activate_in_registers<Vec>(v, r.activation);
      Vec::store(out + p * B, v);
    }
  }
  if (!in_registers)
    apply_tile_epilogue(r.y + ox * B, r.out_block_stride, G, P * B, TileEpilogue{nullptr, nullptr, nullptr, 0, r.activation});
}

// The filter rows [begin, end) whose input rows lie inside [0, in_h).
inline void rows_inside(const NchwcConvRow& r, int64_t& begin, int64_t& end) {
  begin = r.iy0 >= 0 ? 0 : (-r.iy0 + r.dilation_h - 1) / r.dilation_h;
  end = r.iy0 >= r.in_h ? 0 : std::min(r.kernel_h, (r.in_h - r.iy0 + r.dilation_h - 1) / r.dilation_h);
}

// P output pixels (stride S) times G output blocks, summed over every input block, filter tap and
// input lane. L is the input's lanes per block: the level's block for an NCHWc input, 1 for an
// NCHW one (each channel a block of one lane). The filters of one tap and input lane are G
// contiguous vectors.
template <class Vec, int P, int G, int S, int L>
void conv_tile(const NchwcConvRow& r, int64_t ox) {
  constexpr int B = Vec::kBlock;
  using V = typename Vec::V;
  V acc[P][G];
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 2
    for (int g = 0; g < G; ++g)
      acc[p][g] = r.accumulate ? Vec::load(r.y + g * r.out_block_stride + (ox + p) * B) : Vec::zero();
  int64_t ky_begin, ky_end;
  rows_inside(r, ky_begin, ky_end);
  const int64_t tap_floats = L * G * B, block_floats = r.kernel_h * r.kernel_w * tap_floats;
  // This strip's share of the prefetch (run_strips hands each strip its own), a part per block.
  const int64_t prefetch_per_block = (r.prefetch_lines + r.in_blocks - 1) / r.in_blocks;
  const float* prefetch = r.prefetch;
  int64_t prefetch_left = r.prefetch_lines;
  for (int64_t cb = 0; cb < r.in_blocks; ++cb) {
    for (int64_t i = 0; i < prefetch_per_block && prefetch_left > 0; ++i, --prefetch_left, prefetch += 16)
      __builtin_prefetch(prefetch, 0, 2);
    // The last block's padded lanes are skipped: their filters are zero. (A runtime bound costs
    // nothing beside a step's FMAs, but an NCHW input's one lane must stay a constant.)
    const int lanes = L == 1 ? 1 : static_cast<int>(std::min<int64_t>(L, r.in_channels - cb * L));
    for (int64_t ky = ky_begin; ky < ky_end; ++ky) {
      const float* x_row =
          r.x + cb * r.in_block_stride + ((r.iy0 + ky * r.dilation_h - r.in_first_row) * r.in_row + ox * S) * L;
      const float* w_row = r.w + cb * block_floats + ky * r.kernel_w * tap_floats;
      for (int64_t kx = 0; kx < r.kernel_w; ++kx) {
        const float* x = x_row + kx * r.dilation_w * L;
        const float* w = w_row + kx * tap_floats;
        for (int c = 0; c < lanes; ++c) {
          V filters[G];
#pragma GCC unroll 2
          for (int g = 0; g < G; ++g) filters[g] = Vec::load(w + (c * G + g) * B);
#pragma GCC unroll 16
          for (int p = 0; p < P; ++p) {
            const V pixel = Vec::broadcast(x[p * S * L + c]);
#pragma GCC unroll 2
            for (int g = 0; g < G; ++g) acc[p][g] = Vec::fma(pixel, filters[g], acc[p][g]);
          }
        }
      }
    }
  }
  store_tile<Vec, P, G>(acc, r, ox);
}

// P output pixels of one block: each tap multiplies P input pixel vectors by one filter vector.
// Depthwise work is too light per input byte to pay for copying the input into padded rows, so a
// tap whose columns cross the left or right edge tests each pixel instead (only strips at a row's
// ends have such taps).
template <class Vec, int P, int S>
void depthwise_tile(const NchwcConvRow& r, int64_t ox) {
  constexpr int B = Vec::kBlock;
  using V = typename Vec::V;
  V acc[P][1];
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p) acc[p][0] = Vec::zero();
  int64_t ky_begin, ky_end;
  rows_inside(r, ky_begin, ky_end);
  for (int64_t ky = ky_begin; ky < ky_end; ++ky) {
    const int64_t iy = r.iy0 + ky * r.dilation_h;
    const float* x_row = r.x + (r.ring_rows ? iy % r.ring_rows : iy - r.in_first_row) * r.in_row * B;
    const float* w_row = r.w + ky * r.kernel_w * B;
    for (int64_t kx = 0; kx < r.kernel_w; ++kx) {
      const int64_t first = ox * S - r.pad_left + kx * r.dilation_w;  // input column of pixel 0
      const V filter = Vec::load(w_row + kx * B);
      if (first >= 0 && first + (P - 1) * S < r.in_row) {
        const float* x = x_row + first * B;
#pragma GCC unroll 16
        for (int p = 0; p < P; ++p) acc[p][0] = Vec::fma(Vec::load(x + p * S * B), filter, acc[p][0]);
        continue;
      }
#pragma GCC unroll 16
      for (int p = 0; p < P; ++p) {
        const int64_t ix = first + p * S;
        if (ix >= 0 && ix < r.in_row) acc[p][0] = Vec::fma(Vec::load(x_row + ix * B), filter, acc[p][0]);
      }
    }
  }
  store_tile<Vec, P, 1>(acc, r, ox);
}

// Tile functions for strips of 1 .. kMaxPixels pixels, indexed by width - 1.
template <class Vec, int G, int S, int L, size_t... I>
constexpr std::array<NchwcTileFn, sizeof...(I)> conv_tiles(std::index_sequence<I...>) {
  return {&conv_tile<Vec, static_cast<int>(I) + 1, G, S, L>...};
}
template <class Vec, int S, size_t... I>
constexpr std::array<NchwcTileFn, sizeof...(I)> depthwise_tiles(std::index_sequence<I...>) {
  return {&depthwise_tile<Vec, static_cast<int>(I) + 1, S>...};
}
template <class Vec, int G, int S, int L>
constexpr auto kConvTiles = conv_tiles<Vec, G, S, L>(std::make_index_sequence<Vec::kMaxPixels>());
template <class Vec, int S>
constexpr auto kDepthwiseTiles = depthwise_tiles<Vec, S>(std::make_index_sequence<Vec::kMaxPixels>());

// The row segment as full-width strips, then one narrower strip for what is left; the row's
// prefetch is shared out among the strips.
template <size_t N>
void run_strips(const std::array<NchwcTileFn, N>& tiles, const NchwcConvRow& row) {
  const int64_t width = static_cast<int64_t>(N);
  const int64_t strips = (row.ox_end - row.ox_begin + width - 1) / width;
  const int64_t share = (row.prefetch_lines + strips - 1) / strips;
  NchwcConvRow r = row;
  r.prefetch_lines = std::min(share, row.prefetch_lines);
  int64_t ox = r.ox_begin, left = row.prefetch_lines;
  auto next_strip = [&] {
    r.prefetch += r.prefetch_lines * 16;
    left -= r.prefetch_lines;
    r.prefetch_lines = std::min(share, left);
  };
  for (; ox + width <= r.ox_end; ox += width, next_strip()) tiles[N - 1](r, ox);
  if (ox < r.ox_end) tiles[static_cast<size_t>(r.ox_end - ox - 1)](r, ox);
}

template <class Vec, int L>
void conv_row_of_lanes(const NchwcConvRow& r) {
  if (r.stride_w == 1)
    return r.blocks == 2 ? run_strips(kConvTiles<Vec, 2, 1, L>, r) : run_strips(kConvTiles<Vec, 1, 1, L>, r);
  return r.blocks == 2 ? run_strips(kConvTiles<Vec, 2, 2, L>, r) : run_strips(kConvTiles<Vec, 1, 2, L>, r);
}

template <class Vec>
void nchwc_conv_row(const NchwcConvRow& r) {
  return r.in_lanes == 1 ? conv_row_of_lanes<Vec, 1>(r) : conv_row_of_lanes<Vec, Vec::kBlock>(r);
}

template <class Vec>
void nchwc_depthwise_row(const NchwcConvRow& r) {
  return r.stride_w == 1 ? run_strips(kDepthwiseTiles<Vec, 1>, r) : run_strips(kDepthwiseTiles<Vec, 2>, r);
}

template <class Vec>
constexpr NchwcConvIsa kNchwcConvIsa{Vec::kBlock, Vec::kMaxPixels, &nchwc_conv_row<Vec>, &nchwc_depthwise_row<Vec>};

}  // namespace
}  // namespace kiln::kernels
