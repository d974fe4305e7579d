// The fast paged attention kernel against its reference over head counts (MHA, GQA, MQA), head
// sizes that leave vector tails (13, 20), block sizes, scattered block tables, prefill, chunked
// prefill and single decode steps, on one and three threads; and the reference against a dense
// softmax(QK^T)V written out here.
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
  std::vector<float> keys, values, queries;
  std::vector<int32_t> table;
  PagedKv kv;
  PagedQueries q;
};

// `cached + count` positions, their blocks in a shuffled order among twice as many.
Cache make_cache(const Case& c, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  Cache out;
  const int64_t positions = c.cached + c.count;
  const int64_t blocks = 2 * ((positions + c.block_size - 1) / c.block_size);
  std::vector<int32_t> all(static_cast<size_t>(blocks));
  std::iota(all.begin(), all.end(), 0);
  std::shuffle(all.begin(), all.end(), rng);
  out.table.assign(all.begin(), all.begin() + blocks / 2);
  for (auto* v : {&out.keys, &out.values}) {
    v->resize(static_cast<size_t>(blocks * c.kv_heads * c.block_size * c.head_dim));
    for (float& x : *v) x = uniform(rng);
  }
  const int64_t ld = c.heads * c.head_dim + 5;  // rows of a wider qkv matrix
  out.queries.resize(static_cast<size_t>(c.count * ld));
  for (float& x : out.queries) x = 2.f * uniform(rng);
  out.kv = {out.keys.data(), out.values.data(), out.table.data(), c.block_size, c.kv_heads, c.head_dim};
  out.q = {out.queries.data(), ld, c.count, c.heads, c.cached};
  return out;
}

TEST(PagedAttentionRef, EqualsDenseCausalSoftmaxAttention) {
  const Case c{4, 2, 8, 3, 5, 4};
  const Cache cache = make_cache(c, 7);
  std::vector<float> out(static_cast<size_t>(c.count * c.heads * c.head_dim));
  paged_attention_ref(cache.kv, cache.q, 0.5f, out.data());
  auto row = [&](const std::vector<float>& pool, int64_t head, int64_t p) {
    return pool.data() + ((cache.table[p / c.block_size] * c.kv_heads + head) * c.block_size + p % c.block_size) * c.head_dim;
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

class PagedAttentionFast : public testing::LevelSweep {};

TEST_P(PagedAttentionFast, MatchesTheReference) {
  const std::vector<Case> cases = {
      {4, 4, 16, 16, 0, 37},   // MHA prefill over several query tiles
      {8, 2, 13, 5, 11, 1},    // GQA decode, head size with a tail
      {6, 1, 20, 7, 30, 9},    // MQA chunk after a cached prefix
      {2, 2, 64, 1, 3, 17},    // one position per block
      {4, 2, 32, 64, 100, 1},  // a long block, partly filled
  };
  for (size_t n = 0; n < cases.size(); ++n) {
    const Case& c = cases[n];
    const Cache cache = make_cache(c, static_cast<uint32_t>(n));
    std::vector<float> expected(static_cast<size_t>(c.count * c.heads * c.head_dim)), actual(expected.size());
    paged_attention_ref(cache.kv, cache.q, 0.3f, expected.data());
    for (int threads : {1, 3}) {
      ThreadPool pool(threads);
      std::fill(actual.begin(), actual.end(), std::nanf(""));
      paged_attention(GetParam(), cache.kv, cache.q, 0.3f, actual.data(), pool);
      for (size_t i = 0; i < expected.size(); ++i)
        ASSERT_NEAR(actual[i], expected[i], 2e-5) << "case " << n << ", " << threads << " threads, element " << i;
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
