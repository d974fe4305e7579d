// The fast paged attention, as generic C++ that paged_attention_<isa>.cc compiles once per
// instruction set. Dot products and output rows run over kLanes independent accumulators, a
// shape the vectorizer maps onto one register without reassociating any float sum.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/paged_attention.h"

namespace kiln::kernels {
namespace {

constexpr int64_t kLanes = 16;
constexpr int64_t kQueryTile = 16;  // query positions per work item

float dot(const float* a, const float* b, int64_t n) {
  float acc[kLanes] = {};
  int64_t c = 0;
  for (; c + kLanes <= n; c += kLanes)
    for (int64_t l = 0; l < kLanes; ++l) acc[l] += a[c + l] * b[c + l];
  float sum = 0.f;
  for (int64_t l = 0; l < kLanes; ++l) sum += acc[l];
  for (; c < n; ++c) sum += a[c] * b[c];
  return sum;
}

void scale_add(float* y, float y_scale, const float* x, float x_scale, int64_t n) {
  for (int64_t c = 0; c < n; ++c) y[c] = y[c] * y_scale + x[c] * x_scale;
}

// Queries first..last-1 of every head reading `kv_head`.
void attend_tile(const PagedKv& kv, const PagedQueries& q, float scale, float* out, int64_t kv_head, int64_t first,
                 int64_t last) {
  const int64_t d = kv.head_dim, group = q.heads / kv.kv_heads;
  const int64_t rows = (last - first) * group;
  thread_local std::vector<float> scratch;
  scratch.resize(static_cast<size_t>(2 * rows + kv.block_size));
  float* row_max = scratch.data();
  float* row_sum = row_max + rows;
  float* scores = row_sum + rows;
  std::fill(row_max, row_max + rows, -std::numeric_limits<float>::infinity());
  std::fill(row_sum, row_sum + rows, 0.f);
  auto out_row = [&](int64_t r) { return out + ((first + r / group) * q.heads + kv_head * group + r % group) * d; };
  auto query_row = [&](int64_t r) { return q.data + (first + r / group) * q.ld + (kv_head * group + r % group) * d; };
  for (int64_t r = 0; r < rows; ++r) std::fill(out_row(r), out_row(r) + d, 0.f);

  const int64_t visible_end = q.first_position + last;  // positions the tile's last query sees
  const size_t block_stride = static_cast<size_t>(kv.block_size * d);
  for (int64_t p0 = 0; p0 < visible_end; p0 += kv.block_size) {
    const size_t block = static_cast<size_t>(kv.block_table[p0 / kv.block_size] * kv.kv_heads + kv_head);
    const float* keys = kv.keys + block * block_stride;
    const float* values = kv.values + block * block_stride;
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t seen = std::min(kv.block_size, q.first_position + first + r / group + 1 - p0);
      if (seen <= 0) continue;
      const float* query = query_row(r);
      float block_max = row_max[r];
      for (int64_t j = 0; j < seen; ++j) {
        scores[j] = dot(query, keys + j * d, d) * scale;
        block_max = std::max(block_max, scores[j]);
      }
      float* o = out_row(r);
      const float rescale = std::exp(row_max[r] - block_max);
      float sum = row_sum[r] * rescale;
      for (int64_t j = 0; j < seen; ++j) {
        const float weight = std::exp(scores[j] - block_max);
        sum += weight;
        scale_add(o, j == 0 ? rescale : 1.f, values + j * d, weight, d);
      }
      row_max[r] = block_max;
      row_sum[r] = sum;
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    float* o = out_row(r);
    const float inverse = 1.f / row_sum[r];
    for (int64_t c = 0; c < d; ++c) o[c] *= inverse;
  }
}

void paged_attention_fast(const PagedKv& kv, const PagedQueries& q, float scale, float* out, ThreadPool& pool) {
  const int64_t tiles = (q.count + kQueryTile - 1) / kQueryTile;
  pool.parallel_for(kv.kv_heads * tiles, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t first = item % tiles * kQueryTile;
      attend_tile(kv, q, scale, out, item / tiles, first, std::min(q.count, first + kQueryTile));
    }
  });
}

}  // namespace
}  // namespace kiln::kernels
