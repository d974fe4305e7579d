// Causal attention of one sequence's new queries over its keys and values in a paged KV cache
// (llm/kv_cache.h), with grouped-query attention: query head h reads KV head h / (heads /
// kv_heads), so MHA (kv_heads == heads), GQA and MQA (kv_heads == 1) are one kernel.
//
// Queries are rows of a transformer's q projection, [count, heads * head_dim], at positions
// first_position .. first_position + count - 1; each attends to every cached position up to its
// own, which the caller has already written (prefill of a whole prompt, a chunk of it, or one
// decode step are the same call). Keys and values are read in the cache's dtype (paged_kv.h):
// half rows are widened in registers, and an Int8 row's scale multiplies its key's dot product
// or its value's softmax weight, never the row itself.
#pragma once

#include <cstdint>

#include "core/cpu_features.h"
#include "core/thread_pool.h"
#include "kernels/cpu/paged_kv.h"

namespace kiln::kernels {

// One layer of one sequence: the key row of KV head h at position p is row (h, p % block_size)
// of the block at keys + block_table[p / block_size] * layout.block_bytes(); values likewise.
struct PagedKv {
  PagedKvLayout layout;
  const std::byte* keys = nullptr;
  const std::byte* values = nullptr;
  const int32_t* block_table = nullptr;
};

// Query i, head h starts at data[i * ld + h * head_dim]; the output is dense, [count, heads * head_dim].
struct PagedQueries {
  const float* data = nullptr;
  int64_t ld = 0;
  int64_t count = 0, heads = 0, first_position = 0;
};

// The reference: one query head at a time, each row dequantized to float (load_kv_row), scores
// for all its positions, max subtracted, in float.
void paged_attention_ref(const PagedKv& kv, const PagedQueries& q, float scale, float* out);

// The fast kernel: work items of (KV head, a tile of query positions), split across `pool`; each
// item walks the cache block by block with an online softmax (a running maximum and sum per query
// row, its output rescaled when the maximum grows), every query head of the group scored against
// a block of keys loaded once.
void paged_attention(CpuLevel level, const PagedKv& kv, const PagedQueries& q, float scale, float* out,
                     ThreadPool& pool);

}  // namespace kiln::kernels
