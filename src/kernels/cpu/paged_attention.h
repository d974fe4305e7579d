// Causal attention of one sequence's new queries over its keys and values in a paged KV cache
// (llm/kv_cache.h), with grouped-query attention: query head h reads KV head h / (heads /
// kv_heads), so MHA (kv_heads == heads), GQA and MQA (kv_heads == 1) are one kernel.
//
// Queries are rows of a transformer's q projection, [count, heads * head_dim], at positions
// first_position .. first_position + count - 1; each attends to every cached position up to its
// own, which the caller has already written (prefill of a whole prompt, a chunk of it, or one
// decode step are the same call).
#pragma once

#include <cstdint>

#include "core/cpu_features.h"
#include "core/thread_pool.h"

namespace kiln::kernels {

// One layer of one sequence: the key row of KV head h at position p is
// keys[((block_table[p / block_size] * kv_heads + h) * block_size + p % block_size) * head_dim];
// values likewise.
struct PagedKv {
  const float* keys = nullptr;
  const float* values = nullptr;
  const int32_t* block_table = nullptr;
  int64_t block_size = 0, kv_heads = 0, head_dim = 0;
};

// Query i, head h starts at data[i * ld + h * head_dim]; the output is dense, [count, heads * head_dim].
struct PagedQueries {
  const float* data = nullptr;
  int64_t ld = 0;
  int64_t count = 0, heads = 0, first_position = 0;
};

// The reference: one query head at a time, scores for all its positions, max subtracted, in float.
void paged_attention_ref(const PagedKv& kv, const PagedQueries& q, float scale, float* out);

// The fast kernel: work items of (KV head, a tile of query positions), split across `pool`; each
// item walks the cache block by block with an online softmax (a running maximum and sum per query
// row, its output rescaled when the maximum grows), every query head of the group scored against
// a block of keys loaded once.
void paged_attention(CpuLevel level, const PagedKv& kv, const PagedQueries& q, float scale, float* out,
                     ThreadPool& pool);

}  // namespace kiln::kernels
