#include "kernels/cpu/attention.h"

#include <algorithm>

#include "core/aligned_buffer.h"
#include "kernels/cpu/sgemm.h"
#include "kernels/cpu/softmax_ref.h"
#include "kernels/cpu/vec_isa.h"

namespace kiln::kernels {
namespace {

// Query rows per work unit: 64 rows of scores against 4K keys is 1 MB of scratch, and BERT's 128
// positions give two units per head.
constexpr int64_t kQueryBlock = 64;

AlignedBuffer<float>& scores_scratch() {
  thread_local AlignedBuffer<float> buffer;
  return buffer;
}

}  // namespace

void attention(CpuLevel level, const AttentionShape& s, const float* q, const float* k, const float* v,
               const AttentionMask& mask, float scale, float* out, ThreadPool& pool) {
  const int64_t width = s.heads * s.head_size;
  const int64_t blocks = (s.q_seq + kQueryBlock - 1) / kQueryBlock;
  const VecIsa* vec = vec_isa(level);
  pool.parallel_for(s.batch * s.heads * blocks, [&](int64_t begin, int64_t end) {
    AlignedBuffer<float>& scratch = scores_scratch();
    for (int64_t unit = begin; unit < end; ++unit) {
      const int64_t b = unit / (s.heads * blocks), h = unit / blocks % s.heads, i0 = unit % blocks * kQueryBlock;
      const int64_t rows = std::min(kQueryBlock, s.q_seq - i0);
      if (scratch.size() < static_cast<size_t>(rows * s.kv_seq)) scratch.resize_discarding(static_cast<size_t>(rows * s.kv_seq));
      float* scores = scratch.data();
      const float* q_rows = q + (b * s.q_seq + i0) * width + h * s.head_size;
      const float* keys = k + b * s.kv_seq * width + h * s.head_size;
      const float* values = v + b * s.kv_seq * width + h * s.head_size;
      GemmEpilogue scaled;
      scaled.alpha = scale;
      sgemm(level, rows, s.kv_seq, s.head_size, MatrixView{q_rows, width}, MatrixView{keys, width, true}, scores,
            s.kv_seq, scaled, nullptr);
      if (mask.data)
        for (int64_t r = 0; r < rows; ++r) {
          const float* m = mask.data + b * mask.stride_b + h * mask.stride_h + (i0 + r) * mask.stride_q;
          float* row = scores + r * s.kv_seq;
          for (int64_t j = 0; j < s.kv_seq; ++j) row[j] += m[j * mask.stride_k];
        }
      if (vec)
        vec->softmax_rows(scores, scores, rows, s.kv_seq, false);
      else
        softmax_ref(scores, scores, rows, s.kv_seq, 1);
      sgemm(level, rows, s.head_size, s.kv_seq, MatrixView{scores, s.kv_seq}, MatrixView{values, width},
            out + (b * s.q_seq + i0) * width + h * s.head_size, width, {}, nullptr);
    }
  });
}

}  // namespace kiln::kernels
