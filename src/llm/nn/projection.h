// The matrix products of a transformer's linear layers, y = x W^T + b, with W kept in the format
// it is stored or quantized to (kernels/cpu/weight_matrix.h). Several layers that read the same
// input (q, k and v; gate and up) form one projection whose outputs lie side by side.
//
// On AVX-512, weights are packed once, here, in panels of 16 outputs: Int8 and Int4 for the VNNI
// kernel that serves decode and prefill alike (kernels/cpu/packed_int_weights.h), Float16 and
// BFloat16 for decode's GEMV and prefill's SGEMM (kernels/cpu/packed_half_weights.h). Otherwise
// the weights are kept in their own format (copied out of the parameters, which may be views of a
// file mapping), and few rows (decode steps) run the weight GEMV, which streams W once. Many rows (prefill) pack x once and run the SGEMM over slices of W
// converted to float in per-thread scratch: each weight is converted once per call and then used
// by every row.
#pragma once

#include <cstdint>
#include <vector>

#include "core/cpu_features.h"
#include "core/thread_pool.h"
#include "core/weight_store.h"
#include "kernels/cpu/packed_half_weights.h"
#include "kernels/cpu/packed_int_weights.h"
#include "kernels/cpu/weight_matrix.h"
#include "kiln/tensor.h"
#include "llm/nn/parameter.h"

namespace kiln::llm::nn {

// What build() stores the weights as. Float keeps the parameters' own dtype and reads them in
// place; Int8 and Int4 quantize in groups of `group` consecutive inputs, each with a scale. Int4's
// groups are a multiple of 32; group 0 is each kind's default: Int8 per output channel (the whole
// row), Int4 32 (GGUF's Q4_0). Int8 in groups of 32 is GGUF's Q8_0. A projection whose inputs
// the groups do not tile is quantized to Int8 per channel instead.
struct WeightQuant {
  enum Kind { Float, Int8, Int4 } kind = Float;
  int64_t group = 0;
};

// The stored format of a float parameter (Float32, Float16 or BFloat16); Error(InvalidArgument)
// for any other dtype.
kernels::WeightFormat float_weight_format(DType dtype);

class Projection {
 public:
  // `weights` are [out_i, in] each, the same `in`, any float dtype; `biases` is empty or has one
  // entry per weight, each null or [out_i]. Leaves the projection empty when any weight is not
  // loaded yet. What it computes with comes from `store` (under "packed", "weights" and "bias"):
  // an engine file's copy, or made here. When every weight's source stores it as `quant` asks
  // (Parameter::stored_codes: a GGUF's Q8_0 blocks for Int8 in groups of 32, Q4_0's for Int4 in
  // groups of 32), those codes are taken as they are; otherwise the weights' values are read and
  // quantized. Either way the weights are read only when the store makes its copy, and the
  // projection keeps what it computes with: the weights need not outlive it.
  void build(CpuLevel level, const std::vector<const Parameter*>& weights, const std::vector<const Parameter*>& biases,
             WeightQuant quant = {}, WeightStore& store = fresh_weight_store());
  bool built() const { return out_ > 0; }
  int64_t in() const { return in_; }
  int64_t out() const { return out_; }
  // Bytes of weights (and scales) the products read.
  int64_t weight_bytes() const;

  // y[r * ldy + j] (=, or += with `accumulate`) sum_k x[r * ldx + k] W[j][k] + b[j], for r < rows.
  void apply(const float* x, int64_t ldx, int64_t rows, float* y, int64_t ldy, bool accumulate, ThreadPool& pool) const;

 private:
  struct Segment {
    kernels::WeightMatrixView weights;
    int64_t first_output = 0;
  };
  void build_float(const std::vector<const Parameter*>& weights, WeightStore& store);
  void build_quantized(const std::vector<const Parameter*>& weights, WeightQuant quant, WeightStore& store);
  void apply_gemm(const float* x, int64_t ldx, int64_t rows, float* y, int64_t ldy, bool accumulate,
                  ThreadPool& pool) const;

  CpuLevel level_ = CpuLevel::Scalar;
  int64_t in_ = 0, out_ = 0;
  std::vector<Segment> segments_;     // views of weights_, when not packed
  PreparedWeights weights_;           // float weights as stored, or int codes then their scales
  kernels::PackedIntWeights packed_;  // every output, when quantized on AVX-512
  kernels::PackedHalfWeights half_;   // every output, when float16 or bfloat16 on AVX-512
  PreparedWeights bias_;              // [out] floats; empty when no weight has a bias
};

}  // namespace kiln::llm::nn
