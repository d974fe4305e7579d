// The fast paged attention, compiled once per instruction set by paged_attention_<isa>.cc and
// templated over the cache's element type (float, Float16, int8_t): one register of kLanes
// floats is the unit, a stored row is widened into it as it is loaded (vcvtph2ps for half,
// sign extension and vcvtdq2ps for int8), and an Int8 row's scale is applied to the one number
// it affects: its key's score, or its value's softmax weight.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "kernels/cpu/paged_attention.h"
#include "kernels/cpu/vec_math.h"
#include "kiln/dtype.h"

namespace kiln::kernels {
namespace {

#if defined(__AVX512F__)
using Vec = __m512;
constexpr int64_t kLanes = 16;
Vec broadcast(float x) { return _mm512_set1_ps(x); }
Vec fmadd(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
Vec mul(Vec a, Vec b) { return _mm512_mul_ps(a, b); }
Vec add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
float reduce(Vec v) { return _mm512_reduce_add_ps(v); }
void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
Vec load(const float* p) { return _mm512_loadu_ps(p); }
Vec load(const Float16* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
Vec load(const int8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
#elif defined(__AVX2__)
using Vec = __m256;
constexpr int64_t kLanes = 8;
Vec broadcast(float x) { return _mm256_set1_ps(x); }
Vec fmadd(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
Vec mul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
float reduce(Vec v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}
void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
Vec load(const float* p) { return _mm256_loadu_ps(p); }
Vec load(const Float16* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
Vec load(const int8_t* p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}
#else
#error "paged_attention_impl.h is compiled for AVX2 or AVX-512"
#endif

// The first n < kLanes elements of p, zeros after: head sizes that are not a multiple of kLanes.
// (Plain loops, not std::copy_n: an out-of-line std:: instantiation compiled for one instruction
// set could be merged by the linker with another level's; see vec_math.h.)
template <class T>
Vec load_partial(const T* p, int64_t n) {
  T lanes[kLanes] = {};
  for (int64_t i = 0; i < n; ++i) lanes[i] = p[i];
  return load(lanes);
}

// Two accumulators halve the chain of dependent FMAs that bounds one dot product's latency.
float dot(const float* a, const auto* b, int64_t n) {
  Vec acc0 = broadcast(0.f), acc1 = broadcast(0.f);
  int64_t c = 0;
  for (; c + 2 * kLanes <= n; c += 2 * kLanes) {
    acc0 = fmadd(load(a + c), load(b + c), acc0);
    acc1 = fmadd(load(a + c + kLanes), load(b + c + kLanes), acc1);
  }
  if (c + kLanes <= n) {
    acc0 = fmadd(load(a + c), load(b + c), acc0);
    c += kLanes;
  }
  if (c < n) acc1 = fmadd(load_partial(a + c, n - c), load_partial(b + c, n - c), acc1);
  return reduce(add(acc0, acc1));
}

// y = y * y_scale + the sum over j < rows of x[j * n ..] * weights[j]: one block's weighted value
// rows added to an output row, which stays in a register across the rows, one slice of kLanes at a
// time (the slices' FMA chains are independent, so they overlap).
void accumulate_rows(float* y, float y_scale, const auto* x, const float* weights, int64_t rows, int64_t n) {
  const Vec ys = broadcast(y_scale);
  int64_t c = 0;
  for (; c + kLanes <= n; c += kLanes) {
    Vec acc = mul(load(y + c), ys);
    for (int64_t j = 0; j < rows; ++j) acc = fmadd(load(x + j * n + c), broadcast(weights[j]), acc);
    store(y + c, acc);
  }
  if (c < n) {
    Vec acc = mul(load_partial(y + c, n - c), ys);
    for (int64_t j = 0; j < rows; ++j) acc = fmadd(load_partial(x + j * n + c, n - c), broadcast(weights[j]), acc);
    float lanes[kLanes];
    store(lanes, acc);
    for (int64_t i = 0; i < n - c; ++i) y[c + i] = lanes[i];
  }
}

// What row j's stored values are multiplied by: its Int8 scale, else 1.
template <class T>
float row_scale(const std::byte* block, const PagedKvLayout& layout, int64_t head, int64_t j) {
  if constexpr (std::is_same_v<T, int8_t>)
    return reinterpret_cast<const float*>(block + layout.scale_offset(head, 0))[j];
  else
    return 1.f;
}

// Queries first..last-1 of every head reading `kv_head`.
template <class T>
void attend_tile(const PagedKv& kv, const PagedQueries& q, float scale, float* out, int64_t kv_head, int64_t first,
                 int64_t last) {
  const PagedKvLayout& layout = kv.layout;
  const int64_t d = layout.head_dim, group = q.heads / layout.kv_heads, block_size = layout.block_size;
  const int64_t rows = (last - first) * group;
  thread_local std::vector<float> scratch;
  scratch.resize(static_cast<size_t>(2 * rows + block_size));
  float* row_max = scratch.data();
  float* row_sum = row_max + rows;
  float* scores = row_sum + rows;
  std::fill(row_max, row_max + rows, -std::numeric_limits<float>::infinity());
  std::fill(row_sum, row_sum + rows, 0.f);
  auto out_row = [&](int64_t r) { return out + ((first + r / group) * q.heads + kv_head * group + r % group) * d; };
  auto query_row = [&](int64_t r) { return q.data + (first + r / group) * q.ld + (kv_head * group + r % group) * d; };
  for (int64_t r = 0; r < rows; ++r) std::fill(out_row(r), out_row(r) + d, 0.f);

  const int64_t visible_end = q.first_position + last;  // positions the tile's last query sees
  for (int64_t p0 = 0; p0 < visible_end; p0 += block_size) {
    const int64_t block = kv.block_table[p0 / block_size];
    const std::byte* key_block = kv.keys + block * layout.block_bytes();
    const std::byte* value_block = kv.values + block * layout.block_bytes();
    const T* keys = reinterpret_cast<const T*>(key_block + layout.row_offset(kv_head, 0));
    const T* values = reinterpret_cast<const T*>(value_block + layout.row_offset(kv_head, 0));
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t seen = std::min(block_size, q.first_position + first + r / group + 1 - p0);
      if (seen <= 0) continue;
      const float* query = query_row(r);
      float block_max = row_max[r];
      for (int64_t j = 0; j < seen; ++j) {
        scores[j] = dot(query, keys + j * d, d) * (scale * row_scale<T>(key_block, layout, kv_head, j));
        block_max = std::max(block_max, scores[j]);
      }
      // The scores become the block's softmax weights, with each value row's Int8 scale folded in.
      const float rescale = vec_exp(row_max[r] - block_max);
      float sum = row_sum[r] * rescale;
      for (int64_t j = 0; j < seen; ++j) {
        const float weight = vec_exp(scores[j] - block_max);
        sum += weight;
        scores[j] = weight * row_scale<T>(value_block, layout, kv_head, j);
      }
      accumulate_rows(out_row(r), rescale, values, scores, seen, d);
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

constexpr int64_t kQueryTile = 16;  // query positions per work item

template <class T>
void attend_tiles(const PagedKv& kv, const PagedQueries& q, float scale, float* out, ThreadPool& pool) {
  const int64_t tiles = (q.count + kQueryTile - 1) / kQueryTile;
  pool.parallel_for(kv.layout.kv_heads * tiles, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t first = item % tiles * kQueryTile;
      attend_tile<T>(kv, q, scale, out, item / tiles, first, std::min(q.count, first + kQueryTile));
    }
  });
}

void paged_attention_fast(const PagedKv& kv, const PagedQueries& q, float scale, float* out, ThreadPool& pool) {
  switch (kv.layout.dtype) {
    case KvDtype::Float32: return attend_tiles<float>(kv, q, scale, out, pool);
    case KvDtype::Float16: return attend_tiles<Float16>(kv, q, scale, out, pool);
    case KvDtype::Int8: return attend_tiles<int8_t>(kv, q, scale, out, pool);
  }
}

}  // namespace
}  // namespace kiln::kernels
