#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/paged_attention.h"

namespace kiln::kernels {

void paged_attention_ref(const PagedKv& kv, const PagedQueries& q, float scale, float* out) {
  const int64_t d = kv.head_dim, group = q.heads / kv.kv_heads;
  auto row = [&](const float* base, int64_t head, int64_t p) {
    const int64_t block = kv.block_table[p / kv.block_size];
    return base + ((block * kv.kv_heads + head) * kv.block_size + p % kv.block_size) * d;
  };
  std::vector<float> scores;
  for (int64_t i = 0; i < q.count; ++i) {
    const int64_t visible = q.first_position + i + 1;
    scores.assign(static_cast<size_t>(visible), 0.f);
    for (int64_t h = 0; h < q.heads; ++h) {
      const float* query = q.data + i * q.ld + h * d;
      const int64_t kv_head = h / group;
      float max_score = -std::numeric_limits<float>::infinity();
      for (int64_t p = 0; p < visible; ++p) {
        const float* key = row(kv.keys, kv_head, p);
        float dot = 0.f;
        for (int64_t c = 0; c < d; ++c) dot += query[c] * key[c];
        scores[static_cast<size_t>(p)] = dot * scale;
        max_score = std::max(max_score, dot * scale);
      }
      float sum = 0.f;
      for (float& s : scores) sum += (s = std::exp(s - max_score));
      float* o = out + (i * q.heads + h) * d;
      std::fill(o, o + d, 0.f);
      for (int64_t p = 0; p < visible; ++p) {
        const float* value = row(kv.values, kv_head, p);
        const float weight = scores[static_cast<size_t>(p)] / sum;
        for (int64_t c = 0; c < d; ++c) o[c] += weight * value[c];
      }
    }
  }
}

}  // namespace kiln::kernels
