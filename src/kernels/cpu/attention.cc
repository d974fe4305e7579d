#include "kernels/cpu/attention.h"

#include <algorithm>
#include <cmath>

#include "core/aligned_buffer.h"
#include "kernels/cpu/sgemm.h"
#include "kernels/cpu/vec_isa.h"

namespace kiln::kernels {
namespace {

// Query rows per work unit (BERT's 128 positions give two units per head), and keys per block of
// the online softmax: 64 x 256 scores are 64 KB of scratch whatever the sequence length.
constexpr int64_t kQueryBlock = 64;
constexpr int64_t kKeyBlock = 256;

AlignedBuffer<float>& attention_scratch() {
  thread_local AlignedBuffer<float> buffer;
  return buffer;
}

float row_max(const VecIsa* vec, const float* x, int64_t n) {
  if (vec) return vec->max(x, n);
  float m = -INFINITY;
  for (int64_t j = 0; j < n; ++j) m = std::max(m, x[j]);
  return m;
}

void add_mask_row(const VecIsa* vec, float* row, const float* mask, int64_t stride, int64_t n) {
  if (vec && stride == 1) return vec->binary(BinaryKind::Add, row, Operand::Vector, mask, Operand::Vector, row, n);
  for (int64_t j = 0; j < n; ++j) row[j] += mask[j * stride];
}

// x[j] = exp(x[j] - shift) for j < n; returns their sum.
float exp_shifted(const VecIsa* vec, float* x, int64_t n, float shift) {
  if (vec) {
    vec->binary(BinaryKind::Sub, x, Operand::Vector, &shift, Operand::Scalar, x, n);
    vec->unary({UnaryKind::Exp}, x, x, n);
    return vec->sum(x, n);
  }
  float sum = 0.f;
  for (int64_t j = 0; j < n; ++j) sum += (x[j] = std::exp(x[j] - shift));
  return sum;
}

}  // namespace

void attention(CpuLevel level, const AttentionShape& s, const float* q, const float* k, const float* v,
               const AttentionMask& mask, float scale, float* out, ThreadPool& pool) {
  const int64_t width = s.heads * s.head_size;
  const int64_t blocks = (s.q_seq + kQueryBlock - 1) / kQueryBlock;
  const VecIsa* vec = vec_isa(level);
  pool.parallel_for(s.batch * s.heads * blocks, [&](int64_t begin, int64_t end) {
    AlignedBuffer<float>& scratch = attention_scratch();
    scratch.resize_discarding(static_cast<size_t>(kQueryBlock * (kKeyBlock + 2)));
    float* scores = scratch.data();
    float* row_maxima = scores + kQueryBlock * kKeyBlock;
    float* row_sums = row_maxima + kQueryBlock;
    for (int64_t unit = begin; unit < end; ++unit) {
      const int64_t b = unit / (s.heads * blocks), h = unit / blocks % s.heads, i0 = unit % blocks * kQueryBlock;
      const int64_t rows = std::min(kQueryBlock, s.q_seq - i0);
      const float* q_rows = q + (b * s.q_seq + i0) * width + h * s.head_size;
      const float* keys = k + b * s.kv_seq * width + h * s.head_size;
      const float* values = v + b * s.kv_seq * width + h * s.head_size;
      float* o = out + (b * s.q_seq + i0) * width + h * s.head_size;
      // Online softmax over blocks of keys: each block's probabilities are taken against the
      // running row maximum, and what was accumulated before is rescaled when the maximum grows.
      for (int64_t j0 = 0; j0 < s.kv_seq; j0 += kKeyBlock) {
        const int64_t kb = std::min(kKeyBlock, s.kv_seq - j0);
        GemmEpilogue scaled;
        scaled.alpha = scale;
        sgemm(level, rows, kb, s.head_size, MatrixView{q_rows, width}, MatrixView{keys + j0 * width, width, true}, scores,
              kb, scaled, nullptr);
        for (int64_t r = 0; r < rows; ++r) {
          float* row = scores + r * kb;
          if (mask.data) {
            const float* m = mask.data + b * mask.stride_b + h * mask.stride_h + (i0 + r) * mask.stride_q + j0 * mask.stride_k;
            add_mask_row(vec, row, m, mask.stride_k, kb);
          }
          const float previous = j0 == 0 ? -INFINITY : row_maxima[r];
          const float maximum = std::max(previous, row_max(vec, row, kb));
          const float sum = exp_shifted(vec, row, kb, maximum);
          if (j0 == 0) {
            row_sums[r] = sum;
          } else {
            const float rescale = std::exp(previous - maximum);
            row_sums[r] = row_sums[r] * rescale + sum;
            if (rescale != 1.f)
              for (int64_t d = 0; d < s.head_size; ++d) o[r * width + d] *= rescale;
          }
          row_maxima[r] = maximum;
        }
        GemmEpilogue accumulate;
        accumulate.accumulate = j0 > 0;
        sgemm(level, rows, s.head_size, kb, MatrixView{scores, kb}, MatrixView{values + j0 * width, width}, o, width,
              accumulate, nullptr);
      }
      for (int64_t r = 0; r < rows; ++r) {
        const float inverse = 1.f / row_sums[r];
        for (int64_t d = 0; d < s.head_size; ++d) o[r * width + d] *= inverse;
      }
    }
  });
}

}  // namespace kiln::kernels
