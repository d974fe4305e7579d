// The Llama-family decoder (Llama 2/3, TinyLlama, Mistral, Qwen2) as an nn::Module tree with
// Hugging Face's parameter names, and its forward pass over a paged KV cache.
//
// One forward call runs a batch of chunks, each some new tokens of one sequence: a whole prompt,
// a piece of one (chunked prefill), or a single decode step. The chunks' rows go through every
// projection as one matrix; attention runs per chunk over that sequence's cache.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/thread_pool.h"
#include "core/trace.h"
#include "llm/kv_cache.h"
#include "llm/llama_config.h"
#include "llm/nn/layers.h"
#include "llm/rope.h"

namespace kiln::llm {

struct SequenceChunk {
  KvSequence* sequence = nullptr;
  std::vector<int32_t> tokens;  // appended at the sequence's current length
  bool all_logits = false;      // logits for every token, else for the last only
};

// Buffers one caller's forward passes reuse; the model itself is never written by a forward pass.
struct ForwardState {
  std::vector<float> x, normed, qkv, attention, gate_up, logits;
  int64_t logit_rows = 0;
  // Per row of the batch: its sequence, its position there, and RoPE's angles for that position.
  std::vector<const KvSequence*> row_sequence;
  std::vector<int64_t> row_position;
  std::vector<float> rope_angles;  // [rows, head_dim]
  // When set, each forward call adds a "prefill" step (some chunk has several tokens) or a
  // "decode" one, with the embedding, every layer's attention and MLP, and the head inside it.
  Trace* trace = nullptr;
};

class LlamaAttention : public nn::Module {
 public:
  explicit LlamaAttention(const LlamaConfig& config);
  nn::Linear &q_proj, &k_proj, &v_proj, &o_proj;
  nn::Projection qkv;  // q, k and v side by side

 private:
  void prepare_self(const nn::PrepareOptions& options, WeightStore& weights) override;
};

class LlamaMlp : public nn::Module {
 public:
  explicit LlamaMlp(const LlamaConfig& config);
  nn::Linear &gate_proj, &up_proj, &down_proj;
  nn::Projection gate_up;  // gate and up side by side

 private:
  void prepare_self(const nn::PrepareOptions& options, WeightStore& weights) override;
};

class LlamaDecoderLayer : public nn::Module {
 public:
  explicit LlamaDecoderLayer(const LlamaConfig& config);
  nn::RmsNorm& input_layernorm;
  LlamaAttention& self_attn;
  nn::RmsNorm& post_attention_layernorm;
  LlamaMlp& mlp;
};

class LlamaBackbone : public nn::Module {
 public:
  explicit LlamaBackbone(const LlamaConfig& config);
  nn::Embedding& embed_tokens;
  nn::ModuleList<LlamaDecoderLayer>& layers;
  nn::RmsNorm& norm;
};

class LlamaForCausalLM : public nn::Module {
 public:
  explicit LlamaForCausalLM(const LlamaConfig& config);
  const LlamaConfig& config() const { return config_; }
  // A cache of `blocks` blocks of `block_size` positions shaped for this model, storing `dtype`.
  KvCacheShape kv_cache_shape(int64_t blocks, int64_t block_size = 16,
                              kernels::KvDtype dtype = kernels::KvDtype::Float32) const;

  // Appends every chunk's tokens to its sequence in `cache` and computes their logits into
  // state.logits, [state.logit_rows, vocab]: per chunk in order, all its rows or its last.
  // Error(InvalidArgument) for an empty chunk, a sequence in two chunks or an unknown token id;
  // Error(Runtime), with no sequence grown, when the cache lacks the blocks.
  void forward(std::span<const SequenceChunk> chunks, KvCache& cache, ForwardState& state, ThreadPool& pool) const;

 private:
  void prepare_self(const nn::PrepareOptions& options, WeightStore& weights) override;
  void attention_block(const LlamaDecoderLayer& layer, int64_t index, std::span<const SequenceChunk> chunks,
                       const std::vector<int64_t>& first_positions, KvCache& cache, ForwardState& state,
                       ThreadPool& pool) const;
  void mlp_block(const LlamaDecoderLayer& layer, int64_t rows, ForwardState& state, ThreadPool& pool) const;

  LlamaConfig config_;
  Rope rope_;
  LlamaBackbone& model_;
  nn::Linear* lm_head_ = nullptr;  // null when tied to the embedding
  nn::Projection head_;
};

}  // namespace kiln::llm
