// The fast paged attention kernel against its reference, for every KV dtype, over head counts
// (MHA, GQA, MQA), head sizes that leave vector tails (7, 13, 20, 33), block sizes, scattered block
// tables, prefill, chunked prefill and single decode steps, on one and three threads; the
// reference against a dense softmax(QK^T)V written out here; and the reference over f16 and int8
// caches against the same keys and values kept in float32.
#include "kernels/cpu/paged_attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "level_sweep.h"

namespace kiln::kernels {
namespace {

struct Case {
  int64_t heads, kv_heads, head_dim, block_size, cached, count;
};

struct Cache {
  std::vector<std::byte> keys, values;
  std::vector<float> queries;
  std::vector<int32_t> table;
  PagedKv kv;
  PagedQueries q;
};

// `cached + count` positions, their blocks in a shuffled order among twice as many, every row
// stored in `dtype`; the same seed gives the same floats whatever the dtype.
Cache make_cache(const Case& c, uint32_t seed, KvDtype dtype = KvDtype::Float32) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  Cache out;
  const int64_t positions = c.cached + c.count;
  const int64_t blocks = 2 * ((positions + c.block_size - 1) / c.block_size);
  std::vector<int32_t> all(static_cast<size_t>(blocks));
  std::iota(all.begin(), all.end(), 0);
  std::shuffle(all.begin(), all.end(), rng);
  out.table.assign(all.begin(), all.begin() + blocks / 2);
  const PagedKvLayout layout{.dtype = dtype, .block_size = c.block_size, .kv_heads = c.kv_heads, .head_dim = c.head_dim};
  std::vector<float> row(static_cast<size_t>(c.head_dim));
  for (auto* pool : {&out.keys, &out.values}) {
    pool->resize(static_cast<size_t>(blocks * layout.block_bytes()));
    for (int64_t b = 0; b < blocks; ++b)
      for (int64_t h = 0; h < c.kv_heads; ++h)
        for (int64_t slot = 0; slot < c.block_size; ++slot) {
          for (float& x : row) x = uniform(rng);
          store_kv_row(layout, pool->data() + b * layout.block_bytes(), h, slot, row.data());
        }
  }
  const int64_t ld = c.heads * c.head_dim + 5;  // rows of a wider qkv matrix
  out.queries.resize(static_cast<size_t>(c.count * ld));
  for (float& x : out.queries) x = 2.f * uniform(rng);
  out.kv = {layout, out.keys.data(), out.values.data(), out.table.data()};
  out.q = {out.queries.data(), ld, c.count, c.heads, c.cached};
  return out;
}

TEST(PagedAttentionRef, EqualsDenseCausalSoftmaxAttention) {
  const Case c{4, 2, 8, 3, 5, 4};
  const Cache cache = make_cache(c, 7);
  std::vector<float> out(static_cast<size_t>(c.count * c.heads * c.head_dim));
  paged_attention_ref(cache.kv, cache.q, 0.5f, out.data());
  std::vector<float> stored(static_cast<size_t>(c.head_dim));
  auto row = [&](const std::vector<std::byte>& pool, int64_t head, int64_t p) {
    load_kv_row(cache.kv.layout, pool.data() + cache.table[p / c.block_size] * cache.kv.layout.block_bytes(), head,
                p % c.block_size, stored.data());
    return stored.data();
  };
  for (int64_t i = 0; i < c.count; ++i)
    for (int64_t h = 0; h < c.heads; ++h) {
      const float* q = cache.queries.data() + i * cache.q.ld + h * c.head_dim;
      const int64_t kv_head = h / (c.heads / c.kv_heads), visible = c.cached + i + 1;
      std::vector<double> weights;
      double total = 0;
      for (int64_t p = 0; p < visible; ++p) {
        double dot = 0;
        for (int64_t k = 0; k < c.head_dim; ++k) dot += q[k] * row(cache.keys, kv_head, p)[k];
        weights.push_back(std::exp(0.5 * dot));
        total += weights.back();
      }
      for (int64_t k = 0; k < c.head_dim; ++k) {
        double expected = 0;
        for (int64_t p = 0; p < visible; ++p) expected += weights[static_cast<size_t>(p)] / total * row(cache.values, kv_head, p)[k];
        EXPECT_NEAR(out[static_cast<size_t>((i * c.heads + h) * c.head_dim + k)], expected, 1e-5) << i << " " << h << " " << k;
      }
    }
}

// Keys and values uniform in [-1, 1], queries in [-2, 2], scale 1/sqrt(head_dim): the largest
// error of any output against float32 storage, measured at 7.8e-5 (f16) and 1.8e-3 (int8).
TEST(PagedAttentionRef, Float16AndInt8CachesStayCloseToFloat32) {
  const std::vector<Case> cases = {{8, 2, 64, 16, 200, 8}, {4, 4, 128, 16, 60, 1}, {6, 1, 13, 5, 30, 4}};
  for (const auto& [dtype, tolerance] : {std::pair{KvDtype::Float16, 1e-4}, std::pair{KvDtype::Int8, 2.5e-3}})
    for (size_t n = 0; n < cases.size(); ++n) {
      const Case& c = cases[n];
      const float scale = 1.f / std::sqrt(static_cast<float>(c.head_dim));
      std::vector<float> exact(static_cast<size_t>(c.count * c.heads * c.head_dim)), stored(exact.size());
      const Cache f32 = make_cache(c, static_cast<uint32_t>(n)), lossy = make_cache(c, static_cast<uint32_t>(n), dtype);
      paged_attention_ref(f32.kv, f32.q, scale, exact.data());
      paged_attention_ref(lossy.kv, lossy.q, scale, stored.data());
      double worst = 0;
      for (size_t i = 0; i < exact.size(); ++i) worst = std::max(worst, static_cast<double>(std::abs(stored[i] - exact[i])));
      EXPECT_LE(worst, tolerance) << kv_dtype_name(dtype) << " case " << n;
      EXPECT_GT(worst, 0.0) << kv_dtype_name(dtype) << " case " << n << ": the cache did not store " << kv_dtype_name(dtype);
    }
}

class PagedAttentionFast : public testing::LevelSweep {};

TEST_P(PagedAttentionFast, MatchesTheReferenceForEveryKvDtype) {
  const std::vector<Case> cases = {
      {4, 4, 16, 16, 0, 37},    // MHA prefill over several query tiles
      {8, 2, 13, 5, 11, 1},     // GQA decode, head size with a tail
      {6, 1, 20, 7, 30, 9},     // MQA chunk after a cached prefix
      {2, 2, 64, 1, 3, 17},     // one position per block
      {4, 2, 32, 64, 100, 1},   // a long block, partly filled
      {6, 2, 7, 3, 4, 6},       // a head shorter than one register
      {8, 1, 33, 9, 50, 19},    // a full register and a one-lane tail, group of 8
      {12, 2, 128, 16, 300, 1}, // long-context decode at a real head size
  };
  for (KvDtype dtype : {KvDtype::Float32, KvDtype::Float16, KvDtype::Int8})
    for (size_t n = 0; n < cases.size(); ++n) {
      const Case& c = cases[n];
      const Cache cache = make_cache(c, static_cast<uint32_t>(n), dtype);
      std::vector<float> expected(static_cast<size_t>(c.count * c.heads * c.head_dim)), actual(expected.size());
      paged_attention_ref(cache.kv, cache.q, 0.3f, expected.data());
      for (int threads : {1, 3}) {
        ThreadPool pool(threads);
        std::fill(actual.begin(), actual.end(), std::nanf(""));
        paged_attention(GetParam(), cache.kv, cache.q, 0.3f, actual.data(), pool);
        for (size_t i = 0; i < expected.size(); ++i)
          ASSERT_NEAR(actual[i], expected[i], 2e-5)
              << kv_dtype_name(dtype) << " case " << n << ", " << threads << " threads, element " << i;
      }
    }
}

// Scalar runs the reference itself.
std::vector<CpuLevel> fast_levels() {
  std::vector<CpuLevel> levels = testing::runnable_cpu_levels();
  levels.erase(std::remove(levels.begin(), levels.end(), CpuLevel::Scalar), levels.end());
  return levels;
}

INSTANTIATE_TEST_SUITE_P(Levels, PagedAttentionFast, ::testing::ValuesIn(fast_levels()),
                         [](const auto& param_info) { return std::string(cpu_level_name(param_info.param)); });

}  // namespace
}  // namespace kiln::kernels
