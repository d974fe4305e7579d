// The fast single-precision GEMM: C [M x N] = A [M x K] * B [K x N], then an epilogue (scale, bias,
// residual, activation) applied to each tile while it is still in cache.
//
// Layout follows BLIS/MLAS: K is cut into blocks of kc; A into row panels of mr rows and B into
// column panels of nr columns, each stored k-major so the micro-kernel streams them linearly. mr,
// nr and kc depend on the CPU level, so packed operands are made for one level. Either operand may
// be packed once ahead of time (weights, at session creation); the other is packed block by block
// into per-thread scratch while the GEMM runs. B may also be read straight from a convolution's
// input image, packing its im2col matrix without ever materializing it.
#pragma once

#include <cstdint>
#include <variant>
#include <vector>

#include "core/cpu_features.h"
#include "core/weight_store.h"
#include "core/thread_pool.h"
#include "kernels/cpu/activation.h"

namespace kiln::kernels {

// Element (r, c) is data[r * ld + c], or data[c * ld + r] when transposed.
struct MatrixView {
  const float* data = nullptr;
  int64_t ld = 0;
  bool transposed = false;
};

// The im2col matrix of one 2-D convolution image: row k = (channel, ky, kx), column j = output
// position (oy, ox); padding reads as zero.
struct Im2colView {
  const float* image = nullptr;  // [channels, height, width]
  int64_t channels = 0, height = 0, width = 0;
  int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0;
  int64_t out_h = 0, out_w = 0;
};

// Block sizes and micro-kernel tile for one CPU level.
struct GemmTiling {
  int64_t mr, nr, kc;
};
GemmTiling gemm_tiling(CpuLevel level);

// An operand packed once: A as mr-row panels, or B as nr-column panels, per kc block. The panels
// come from `store` under `key` (packed there, or an engine file's copy).
class PackedMatrix {
 public:
  PackedMatrix() = default;
  static PackedMatrix pack_a(CpuLevel level, int64_t M, int64_t K, const MatrixView& a,
                             WeightStore& store = fresh_weight_store(), std::string_view key = "A");
  static PackedMatrix pack_b(CpuLevel level, int64_t K, int64_t N, const MatrixView& b,
                             WeightStore& store = fresh_weight_store(), std::string_view key = "B");

  CpuLevel level() const { return level_; }
  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  // The panel that starts at row or column `index` (a multiple of mr or nr) in the kc block that
  // starts at k0.
  const float* panel(int64_t k0, int64_t index, int64_t kc) const;

 private:
  PackedMatrix(CpuLevel level, int64_t rows, int64_t cols, int64_t padded)
      : level_(level), rows_(rows), cols_(cols), padded_(padded) {}

  CpuLevel level_ = CpuLevel::Scalar;
  int64_t rows_ = 0, cols_ = 0;
  int64_t padded_ = 0;  // panel-padded M for A, N for B
  PreparedWeights data_;  // K rows of panels across padded_
};

struct GemmEpilogue {
  float alpha = 1.f;              // scales A*B
  bool accumulate = false;        // add to what C holds instead of overwriting it
  const float* row_bias = nullptr;   // [M], added to every row i (convolution bias per channel)
  const float* col_bias = nullptr;   // [N], added to every column j (Gemm/MatMul bias)
  const float* residual = nullptr;   // [M x N] with stride residual_ld, added before the activation
  int64_t residual_ld = 0;
  Activation activation;
};

using GemmA = std::variant<MatrixView, const PackedMatrix*>;
using GemmB = std::variant<MatrixView, const PackedMatrix*, Im2colView>;

// C = activation(alpha * A * B [+ C] + biases + residual), C row-major with stride ldc. Packed
// operands must have been packed for `level`. Splits the work over the pool's threads; a null pool
// runs it on the calling thread (for callers that parallelize over many small GEMMs themselves).
void sgemm(CpuLevel level, int64_t M, int64_t N, int64_t K, const GemmA& a, const GemmB& b, float* c, int64_t ldc,
           const GemmEpilogue& epilogue, ThreadPool* pool);

}  // namespace kiln::kernels
