// The int8 GEMM: C[i, j] = epilogue(sum over k of (A[i, k] - a_zero_point) * (B[k, j] - b_zero_point[j]))
// for uint8 activations A and int8 or uint8 weights B, the core of QLinearConv, QLinearMatMul,
// ConvInteger, MatMulInteger and dynamically quantized MatMul and Conv.
//
// B is packed once (PackedQuantWeights) for VNNI's vpdpbusd, which multiplies 4 unsigned bytes of
// A by 4 signed bytes of B and adds the 4 products to an int32 lane. The zero points come out of
// the products by the identity
//   sum (a - za)(b - zb) = sum a*b - za * colsum_b[j] - zb[j] * rowsum_a[i] + K * za * zb[j],
// all in wrapping int32 (as gemm_integer_ref): the column sums are packed with B, and the row sums
// of A are computed per call only when some zb is not zero (symmetric weights, the common case,
// skip them). A is read in place, row by row, so a 1x1 convolution over NHWC rows or im2col rows
// (im2col_nhwc.h) needs no copy.
//
// Every CPU level computes exactly gemm_integer_ref's sums and the epilogues below bit for bit:
// AVX-512 with VNNI, AVX2 with exact 16-bit products (vpmaddwd; never vpmaddubsw, which
// saturates), and a scalar loop over the same packed layout.
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>
#include <variant>

#include "core/cpu_features.h"
#include "core/thread_pool.h"
#include "core/weight_store.h"

namespace kiln::kernels {

// Weights B [K x N] as a model holds them: element (k, j) at data[k * ld + j], or at
// data[j * ld + k] when transposed (Conv weights [out_channels, K]; MatMul's are [K, N]).
struct QuantWeightsView {
  const void* data = nullptr;
  bool is_signed = true;  // int8 codes, else uint8
  int64_t ld = 0;
  bool transposed = false;
  const int32_t* zero_points = nullptr;  // null: all zero
  int64_t zero_point_step = 0;           // 0: zero_points[0] for every column; 1: one per column
};

// B packed for the kernels of every level (one layout, so an engine file stores it once): panels
// of 16 columns, each ceil(K / 4) groups of 64 bytes in which byte 4n + t is column n's code at
// k = 4g + t. Codes are int8: uint8 weights are stored minus 128 with their zero points lowered by
// 128, which leaves every difference b - zb as it was. Codes past K and past N are zero, so they
// add nothing to a sum whatever A holds there, and their outputs are never stored.
class PackedQuantWeights {
 public:
  static constexpr int64_t kPanel = 16;

  PackedQuantWeights() = default;
  // The packed bytes come from `store` under `key` (packed there, or an engine file's copy).
  static PackedQuantWeights pack(int64_t K, int64_t N, const QuantWeightsView& b,
                                 WeightStore& store = fresh_weight_store(), std::string_view key = "B");

  int64_t rows() const { return K_; }
  int64_t cols() const { return N_; }
  int64_t padded_cols() const { return (N_ + kPanel - 1) / kPanel * kPanel; }
  int64_t panel_bytes() const { return (K_ + 3) / 4 * 64; }
  // The panel holding columns [j, j + 16), j a multiple of 16; the next panel follows it.
  const int8_t* panel(int64_t j) const { return data_.as<int8_t>() + 8 * padded_cols() + j / kPanel * panel_bytes(); }
  // Per column, padded_cols() of them: the sum of its stored codes, and its stored zero point.
  const int32_t* column_sums() const { return data_.as<int32_t>(); }
  const int32_t* zero_points() const { return data_.as<int32_t>() + padded_cols(); }
  // Every zero point is zero, so A's row sums are not needed.
  bool symmetric() const { return symmetric_; }

 private:
  int64_t K_ = 0, N_ = 0;
  bool symmetric_ = true;
  PreparedWeights data_;  // column sums, zero points, then the panels
};

// int32 sums to uint8 or int8: y = clamp(saturate(round((acc + bias[j]) * multipliers[j]) +
// zero_point), qmin, qmax), requantize_ref's arithmetic (float product, ties to even) followed by
// the clamp that a fused Relu or Clip becomes. A multiplier is input scale * weight scale / output
// scale, formed in float by the caller.
struct Requantization {
  const int32_t* bias = nullptr;       // [N], or null
  const float* multipliers = nullptr;  // [N] or [1], by multiplier_step
  int64_t multiplier_step = 0;         // 0: multipliers[0] for every column; 1: one per column
  int32_t zero_point = 0;
  int32_t qmin = std::numeric_limits<int32_t>::min(), qmax = std::numeric_limits<int32_t>::max();
};

// int32 sums to float: y = fma((float)acc, scales[j], bias[j]), or (float)acc * scales[j] without a
// bias (a dynamically quantized product scaled by a_scale * b_scale). One rounding, by the FMA, at
// every level, so that levels agree bit for bit.
struct Dequantization {
  const float* scales = nullptr;  // [N] or [1], by scale_step
  int64_t scale_step = 0;
  const float* bias = nullptr;  // [N], or null
};

// The type C points to picks the epilogue: int32 sums as they are (MatMulInteger, ConvInteger),
// requantized uint8 or int8, or dequantized float. C is row-major [M x N] with row stride ldc.
struct QGemmEpilogue {
  std::variant<int32_t*, uint8_t*, int8_t*, float*> c;
  int64_t ldc = 0;
  Requantization requantize;  // for uint8_t* and int8_t*
  Dequantization dequantize;  // for float*
};

// C = epilogue(...) for A [M x K] uint8, row i at a + i * lda, against `b` (K and N are its own).
// Splits C over the pool's threads; a null pool computes it all on the calling thread, for callers
// that parallelize over images themselves. Allocates nothing once its per-thread scratch has grown
// to the largest problem seen.
void qgemm(CpuLevel level, int64_t M, const uint8_t* a, int64_t lda, int32_t a_zero_point, const PackedQuantWeights& b,
           const QGemmEpilogue& epilogue, ThreadPool* pool);

}  // namespace kiln::kernels
