// Float16 and BFloat16 weights (kernels/cpu/weight_matrix.h) repacked once, at load, so that a
// decode step reads the matrix as one sequential stream and needs no horizontal sums.
//
// Outputs are taken in panels of 64; a panel stores, input after input, its 64 outputs' weights
// (128 bytes, two cache lines): four vcvtph2ps (or shifts, for bfloat16) give four vectors of 16
// outputs, each multiplied into its accumulators by x's value at that input broadcast. The
// row-major float GEMV reads 4 rows side by side instead, as 4 short streams, and reduces every
// accumulator at the end: decode ran at about half the read bandwidth. Panels of 16 outputs (one
// broadcast per 32 bytes of weights) streamed at 22 GB/s on one Zen 4 core, panels of 64 at 28-29
// (panels of 128: 27). A panel read as floats is 64 columns of B = W^T, row after row, which is
// what the SGEMM takes for prefill. Outputs past `rows` hold zero weights.
#pragma once

#include <cstdint>
#include <span>

#include "core/thread_pool.h"
#include "core/weight_store.h"
#include "kernels/cpu/weight_gemv.h"
#include "kernels/cpu/weight_matrix.h"

namespace kiln::kernels {

struct PackedHalfWeights {
  static constexpr int64_t kPanel = 64;

  WeightFormat format = WeightFormat::F16;  // F16 or BF16
  int64_t rows = 0, cols = 0;
  int64_t panels = 0;  // ceil(rows / kPanel)
  // Panel p's weight for output kPanel * p + n at input k is data[(p * cols + k) * kPanel + n].
  PreparedWeights data;

  const uint16_t* panel(int64_t p) const { return data.as<uint16_t>() + p * cols * kPanel; }
  // Bytes the products read.
  int64_t bytes() const { return panels * cols * kPanel * 2; }
};

// The layout F16 or BF16 matrices of `rows` rows in all and `cols` columns pack into, without its
// data; Error(InvalidArgument) for any other format.
PackedHalfWeights packed_half_layout(WeightFormat format, int64_t rows, int64_t cols);
// Writes F16 or BF16 matrices of `layout`'s format and width, their rows stacked in order (a fused
// projection's outputs), packed as `layout` (packed_half_layout of their format, rows in all and
// width) to `out`, layout.bytes() bytes. Throws Error(InvalidArgument) for parts that differ from
// the layout or from each other.
void pack_half_weights_into(std::span<const WeightMatrixView> parts, const PackedHalfWeights& layout, uint16_t* out);
// Both, the packed bytes coming from `store` under `key`.
PackedHalfWeights pack_half_weights(std::span<const WeightMatrixView> parts, WeightStore& store = fresh_weight_store(),
                                    std::string_view key = "packed");

// y = x W^T (+ bias) for up to a few rows of x, the values of weight_gemv_ref on the matrix that
// was packed (up to float summation order). Needs CpuLevel::Avx512.
void packed_half_gemv(const PackedHalfWeights& w, const GemvArgs& args, ThreadPool& pool);

// Panels [first, first + count) as floats: out[k * ld + kPanel * (p - first) + n] =
// W[kPanel * p + n][k], for every input k. Needs CpuLevel::Avx512.
void unpack_half_panels(const PackedHalfWeights& w, int64_t first, int64_t count, float* out, int64_t ld);

}  // namespace kiln::kernels
