// Int8 and Int4 weights (kernels/cpu/weight_matrix.h) repacked once, at load, for VNNI products
// with x quantized per block of 32 columns (quantized_activations.h), as llama.cpp repacks Q4_0
// and Q8_0 for its CPU kernels.
//
// Outputs are taken in panels of 16 and each panel's codes stored block after block of 32
// inputs, its scales beside them, so a decode step reads the whole matrix as one sequential stream
// and a prefill tile reuses every loaded vector across up to 8 x rows. Scales are float16, as GGUF's
// Q8_0 and Q4_0 store them (kernels/cpu/weight_quantize.h rounds them so): 4.5 bits per int4
// weight in groups of 32 instead of 5, and decode time follows the bytes it reads. In the 64-byte
// vector for inputs 4i..4i+3 of a panel, byte 4n + t is output n's code at input 4i + t: one
// vpdpbusd against x's 4 bytes broadcast gives each output lane its 4-input dot.
//   Int8: codes + 128 (unsigned bytes, as VNNI wants), 8 vectors per block.
//   Int4: codes 0..15, 4 vectors per block; vector v holds inputs 8v..8v+3 in its low nibbles and
//         8v+4..8v+7 in its high ones.
// Either way a block's dot carries offset * sum(q) (128 or 8), which the kernel starts each
// block's accumulator below. Outputs past `rows` and inputs past `cols` hold code zero (w = 0).
#pragma once

#include <cstdint>

#include "core/thread_pool.h"
#include "core/weight_store.h"
#include "kernels/cpu/weight_gemv.h"
#include "kernels/cpu/weight_matrix.h"

namespace kiln::kernels {

struct PackedIntWeights {
  static constexpr int64_t kPanel = 16;
  // Two groups' 16 float16 scales, one cache line, so that the codes after it stay 64-byte aligned.
  static constexpr int64_t kScaleLineBytes = 64;

  WeightFormat format = WeightFormat::Int8;
  int64_t rows = 0, cols = 0;
  int64_t blocks = 0;        // ceil(cols / 32)
  int64_t panels = 0;        // ceil(rows / 16)
  int64_t groups = 0;        // scales per output: cols / group (1 when a row has one scale)
  int64_t group_blocks = 0;  // blocks per group
  // Panel after panel, each its groups in pairs: a line of the pair's scales (group g's 16, one per
  // output, then group g + 1's, or zeros after a last odd group), then group g's blocks' codes and
  // group g + 1's. One sequential stream, so that the scales are prefetched with the codes.
  PreparedWeights data;

  int64_t block_bytes() const { return format == WeightFormat::Int4 ? 256 : 512; }
  int64_t panel_bytes() const { return (groups + 1) / 2 * kScaleLineBytes + blocks * block_bytes(); }
  // Bytes the products read.
  int64_t bytes() const { return panels * panel_bytes(); }
};

// The layout a `format` matrix of rows x cols in groups of `group` packs into, without its data;
// Error(InvalidArgument) for a format other than Int8 and Int4, or groups the layout cannot take.
PackedIntWeights packed_int_layout(WeightFormat format, int64_t rows, int64_t cols, int64_t group);
// Writes `w` packed as `layout` (packed_int_layout of w's format, sizes and group) to `out`,
// layout.bytes() bytes; Error(InvalidArgument) for a scale that float16 does not hold exactly.
void pack_int_weights_into(const WeightMatrixView& w, const PackedIntWeights& layout, uint8_t* out);
// Both, the packed bytes coming from `store` under `key`.
PackedIntWeights pack_int_weights(const WeightMatrixView& w, WeightStore& store = fresh_weight_store(),
                                  std::string_view key = "packed");

// y = x W^T (+ bias) for any number of x rows, the values of weight_gemv_ref on the matrix that
// was packed (up to float summation order). Needs CpuLevel::Avx512 (VNNI).
void packed_int_matmul(const PackedIntWeights& w, const GemvArgs& args, ThreadPool& pool);

}  // namespace kiln::kernels
