// Multi-head scaled dot-product attention, softmax(scale * Q K^T + mask) V, over tensors laid out
// as a transformer's projections write them: [batch, seq, heads * head_size], head h of position
// i at columns [h * head_size, (h + 1) * head_size) of row i. Reading the heads in place saves the
// transposes to [batch, heads, seq, head_size] and back.
#pragma once

#include <cstdint>

#include "core/cpu_features.h"
#include "core/thread_pool.h"

namespace kiln::kernels {

struct AttentionShape {
  int64_t batch = 0, q_seq = 0, kv_seq = 0, heads = 0, head_size = 0;
};

// An additive mask, element (b, h, i, j) at data[b * stride_b + h * stride_h + i * stride_q +
// j * stride_k] (a broadcast dim has stride 0). Null data: no mask.
struct AttentionMask {
  const float* data = nullptr;
  int64_t stride_b = 0, stride_h = 0, stride_q = 0, stride_k = 0;
};

// The plain reference: one query row at a time, in float, with the max subtracted before exp.
void attention_ref(const AttentionShape& shape, const float* q, const float* k, const float* v, const AttentionMask& mask,
                   float scale, float* out);

// The fast kernel: blocks of query rows of one head (the work units, split across `pool`), each
// scored against blocks of keys by the packed SGEMM into per-thread scratch, masked, and turned
// into probabilities by an online softmax (a running row maximum and sum, the accumulated output
// rescaled when the maximum grows), each block's probabilities multiplied by V and accumulated
// straight into `out`. Scratch is a fixed 64 x 256 floats whatever the sequence lengths.
void attention(CpuLevel level, const AttentionShape& shape, const float* q, const float* k, const float* v,
               const AttentionMask& mask, float scale, float* out, ThreadPool& pool);

}  // namespace kiln::kernels
