#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/attention.h"

namespace kiln::kernels {

void attention_ref(const AttentionShape& s, const float* q, const float* k, const float* v, const AttentionMask& mask,
                   float scale, float* out) {
  const int64_t width = s.heads * s.head_size;
  std::vector<float> scores(static_cast<size_t>(s.kv_seq));
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t h = 0; h < s.heads; ++h)
      for (int64_t i = 0; i < s.q_seq; ++i) {
        const float* qi = q + (b * s.q_seq + i) * width + h * s.head_size;
        float max = -INFINITY;
        for (int64_t j = 0; j < s.kv_seq; ++j) {
          const float* kj = k + (b * s.kv_seq + j) * width + h * s.head_size;
          float dot = 0.f;
          for (int64_t d = 0; d < s.head_size; ++d) dot += qi[d] * kj[d];
          float score = dot * scale;
          if (mask.data)
            score += mask.data[b * mask.stride_b + h * mask.stride_h + i * mask.stride_q + j * mask.stride_k];
          scores[static_cast<size_t>(j)] = score;
          max = std::max(max, score);
        }
        float sum = 0.f;
        for (float& score : scores) sum += (score = std::exp(score - max));
        float* oi = out + (b * s.q_seq + i) * width + h * s.head_size;
        for (int64_t d = 0; d < s.head_size; ++d) {
          float acc = 0.f;
          for (int64_t j = 0; j < s.kv_seq; ++j)
            acc += scores[static_cast<size_t>(j)] * v[(b * s.kv_seq + j) * width + h * s.head_size + d];
          oi[d] = acc / sum;
        }
      }
}

}  // namespace kiln::kernels
