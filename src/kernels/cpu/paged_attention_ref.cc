#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/paged_attention.h"

namespace kiln::kernels {

void paged_attention_ref(const PagedKv& kv, const PagedQueries& q, float scale, float* out) {
  const PagedKvLayout& layout = kv.layout;
  const int64_t d = layout.head_dim, group = q.heads / layout.kv_heads;
  std::vector<float> row(static_cast<size_t>(d));
  auto load = [&](const std::byte* pool, int64_t head, int64_t p) {
    const int64_t block = kv.block_table[p / layout.block_size];
    load_kv_row(layout, pool + block * layout.block_bytes(), head, p % layout.block_size, row.data());
    return row.data();
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
        const float* key = load(kv.keys, kv_head, p);
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
        const float* value = load(kv.values, kv_head, p);
        const float weight = scores[static_cast<size_t>(p)] / sum;
        for (int64_t c = 0; c < d; ++c) o[c] += weight * value[c];
      }
    }
  }
}

}  // namespace kiln::kernels
