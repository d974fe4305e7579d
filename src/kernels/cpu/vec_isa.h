// Vectorized kernels of the non-GEMM ops that CNNs and transformers spend their time in: float32
// activations, elementwise arithmetic, softmax, layer and batch normalization and 2-D pooling, and
// transposes of 32-bit elements. Like gemm_isa, one table of function pointers per CPU level; each
// table is the same generic source (vec_isa_impl.h) compiled by vec_isa_<level>.cc for that
// instruction set, so the compiler vectorizes it as wide as the level allows.
//
// The Scalar level has no table: ops run their reference kernels there, which are also the oracle
// the fast kernels are tested against. The table functions work on one contiguous slice each and
// never allocate; ops split their work over threads and call them per slice.
#pragma once

#include <cstdint>

#include "core/cpu_features.h"
#include "core/thread_pool.h"
#include "kernels/cpu/window_geometry.h"

namespace kiln::kernels {

// Gelu is the exact (erf) form, GeluTanh its tanh approximation (kernels/cpu/activation.h); Silu is
// x * sigmoid(x).
enum class UnaryKind { Relu, LeakyRelu, Clip, HardSigmoid, HardSwish, Sigmoid, Tanh, Erf, Gelu, GeluTanh, Silu, Exp,
                       Sqrt, Neg, Abs };

// An activation and its parameters: LeakyRelu's slope is alpha, Clip's bounds are [alpha, beta],
// HardSigmoid computes alpha * x + beta.
struct UnaryOp {
  UnaryKind kind;
  float alpha = 0.f, beta = 0.f;
};

enum class BinaryKind { Add, Sub, Mul, Div };

// How a binary op reads one operand over a run of n outputs.
enum class Operand { Vector, Scalar };

// One 2-D pooling window over a plane of in_h x in_w, NCHW. Padding only moves the windows: max
// ignores it; average divides by the taps inside the input, or with count_include_pad by those
// inside the padded input (which ends pad_bottom / pad_right past the input).
struct Pool2d {
  int64_t in_h, in_w, out_h, out_w;
  int64_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w;
  int64_t pad_top, pad_left, pad_bottom, pad_right;
  bool average, count_include_pad;
};

// The window of a 2-D `geometry` (from make_window_geometry) as a Pool2d.
Pool2d make_pool_2d(const WindowGeometry& geometry, bool average, bool count_include_pad);

struct VecIsa {
  // y[i] = op(x[i]).
  void (*unary)(const UnaryOp& op, const float* x, float* y, int64_t n);
  // y[i] = a[i] op b[i]; a Scalar operand reads its one element for every i.
  void (*binary)(BinaryKind kind, const float* a, Operand a_form, const float* b, Operand b_form, float* y, int64_t n);
  // Softmax, or with `log` LogSoftmax, of each of `rows` contiguous rows of n values.
  void (*softmax_rows)(const float* x, float* y, int64_t rows, int64_t n, bool log);
  // Each row of `cols` values normalized by its own mean and variance, then y = norm * scale +
  // bias (bias may be null). mean and inv_std_dev, when not null, receive one value per row.
  void (*layer_norm_rows)(const float* x, float* y, int64_t rows, int64_t cols, const float* scale, const float* bias,
                          float epsilon, float* mean, float* inv_std_dev);
  // Each row of `cols` values divided by its root mean square, then y = that * scale.
  void (*rms_norm_rows)(const float* x, float* y, int64_t rows, int64_t cols, const float* scale, float epsilon);
  // y[i] = x[i] * multiplier + offset: batch normalization with folded statistics.
  void (*scale_shift)(const float* x, float* y, int64_t n, float multiplier, float offset);
  // Max or average pooling of one plane.
  void (*pool_2d)(const Pool2d& pool, const float* x, float* y);
  float (*sum)(const float* x, int64_t n);
  // The largest of x[0..n) (-inf for none); NaNs are skipped.
  float (*max)(const float* x, int64_t n);
  // dst[c * dst_ld + r] = src[r * src_ld + c] for r < rows, c < cols: a transpose of 32-bit
  // elements of any type.
  void (*transpose_32)(const uint32_t* src, int64_t src_ld, uint32_t* dst, int64_t dst_ld, int64_t rows, int64_t cols);
};

// The table for `level`, or nullptr at CpuLevel::Scalar.
const VecIsa* vec_isa(CpuLevel level);
const VecIsa& vec_isa_avx2();
const VecIsa& vec_isa_avx512();

// isa.unary over n elements, split across the pool in chunks of kElementwiseGrain.
void parallel_vec_unary(ThreadPool& pool, const VecIsa& isa, const UnaryOp& op, const float* x, float* y, int64_t n);

}  // namespace kiln::kernels
