#include "llm/llama_model.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

#include "kernels/cpu/paged_attention.h"
#include "kernels/cpu/vec_isa.h"

namespace kiln::llm {
namespace {

using nn::Linear;
using nn::Packing;

int64_t q_width(const LlamaConfig& c) { return c.num_attention_heads * c.head_dim; }
int64_t kv_width(const LlamaConfig& c) { return c.num_key_value_heads * c.head_dim; }
bool qkv_bias(const LlamaConfig& c) { return c.attention_bias; }
// Transformers' Llama puts attention_bias on o_proj too; Qwen2 biases q, k and v only.
bool o_bias(const LlamaConfig& c) { return c.attention_bias && c.architecture != Architecture::Qwen2; }

template <class M, class... Args>
std::unique_ptr<M> make(Args&&... args) {
  return std::make_unique<M>(std::forward<Args>(args)...);
}

// out[i] = silu(gate[i]) * up[i] for i < n.
void swiglu(CpuLevel level, const float* gate, const float* up, float* out, int64_t n) {
  if (const kernels::VecIsa* isa = kernels::vec_isa(level)) {
    isa->unary({kernels::UnaryKind::Silu}, gate, out, n);
    isa->binary(kernels::BinaryKind::Mul, out, kernels::Operand::Vector, up, kernels::Operand::Vector, out, n);
    return;
  }
  for (int64_t i = 0; i < n; ++i) out[i] = gate[i] / (1.f + std::exp(-gate[i])) * up[i];
}

}  // namespace

LlamaAttention::LlamaAttention(const LlamaConfig& c)
    : q_proj(register_module("q_proj", make<Linear>(c.hidden_size, q_width(c), qkv_bias(c), Packing::Parent))),
      k_proj(register_module("k_proj", make<Linear>(c.hidden_size, kv_width(c), qkv_bias(c), Packing::Parent))),
      v_proj(register_module("v_proj", make<Linear>(c.hidden_size, kv_width(c), qkv_bias(c), Packing::Parent))),
      o_proj(register_module("o_proj", make<Linear>(q_width(c), c.hidden_size, o_bias(c)))) {}

void LlamaAttention::prepare_self(const nn::PrepareOptions& options, WeightStore& weights) {
  ScopedWeightStore qkv_weights(weights, "qkv.");
  qkv.build(options.level, {&q_proj.weight_parameter(), &k_proj.weight_parameter(), &v_proj.weight_parameter()},
            {q_proj.bias_parameter(), k_proj.bias_parameter(), v_proj.bias_parameter()}, options.quant, qkv_weights);
}

LlamaMlp::LlamaMlp(const LlamaConfig& c)
    : gate_proj(register_module("gate_proj", make<Linear>(c.hidden_size, c.intermediate_size, false, Packing::Parent))),
      up_proj(register_module("up_proj", make<Linear>(c.hidden_size, c.intermediate_size, false, Packing::Parent))),
      down_proj(register_module("down_proj", make<Linear>(c.intermediate_size, c.hidden_size, false))) {}

void LlamaMlp::prepare_self(const nn::PrepareOptions& options, WeightStore& weights) {
  ScopedWeightStore gate_up_weights(weights, "gate_up.");
  gate_up.build(options.level, {&gate_proj.weight_parameter(), &up_proj.weight_parameter()}, {}, options.quant,
                gate_up_weights);
}

LlamaDecoderLayer::LlamaDecoderLayer(const LlamaConfig& c)
    : input_layernorm(register_module("input_layernorm", make<nn::RmsNorm>(c.hidden_size, c.rms_norm_eps))),
      self_attn(register_module("self_attn", make<LlamaAttention>(c))),
      post_attention_layernorm(
          register_module("post_attention_layernorm", make<nn::RmsNorm>(c.hidden_size, c.rms_norm_eps))),
      mlp(register_module("mlp", make<LlamaMlp>(c))) {}

LlamaBackbone::LlamaBackbone(const LlamaConfig& c)
    : embed_tokens(register_module("embed_tokens", make<nn::Embedding>(c.vocab_size, c.hidden_size))),
      layers(register_module("layers", make<nn::ModuleList<LlamaDecoderLayer>>())),
      norm(register_module("norm", make<nn::RmsNorm>(c.hidden_size, c.rms_norm_eps))) {
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) layers.append(make<LlamaDecoderLayer>(c));
}

LlamaForCausalLM::LlamaForCausalLM(const LlamaConfig& config)
    : config_(config), rope_(config), model_(register_module("model", make<LlamaBackbone>(config))) {
  if (!config.tie_word_embeddings)
    lm_head_ = &register_module("lm_head", make<Linear>(config.hidden_size, config.vocab_size, false, Packing::Parent));
}

void LlamaForCausalLM::prepare_self(const nn::PrepareOptions& options, WeightStore& weights) {
  ScopedWeightStore head_weights(weights, "head.");
  head_.build(options.level,
              {lm_head_ ? &lm_head_->weight_parameter() : &model_.embed_tokens.weight_parameter()}, {}, options.quant,
              head_weights);
}

KvCacheShape LlamaForCausalLM::kv_cache_shape(int64_t blocks, int64_t block_size, kernels::KvDtype dtype) const {
  return {.layers = config_.num_hidden_layers,
          .kv_heads = config_.num_key_value_heads,
          .head_dim = config_.head_dim,
          .block_size = block_size,
          .blocks = blocks,
          .dtype = dtype};
}

void LlamaForCausalLM::forward(std::span<const SequenceChunk> chunks, KvCache& cache, ForwardState& state,
                               ThreadPool& pool) const {
  const LlamaConfig& c = config_;
  std::vector<int32_t> tokens;
  std::set<const KvSequence*> seen;
  int64_t new_blocks = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const SequenceChunk& chunk = chunks[i];
    if (chunk.tokens.empty() || !chunk.sequence)
      throw Error(ErrorCode::InvalidArgument, "forward: chunk " + std::to_string(i) + " has no tokens or no sequence");
    if (!seen.insert(chunk.sequence).second)
      throw Error(ErrorCode::InvalidArgument, "forward: chunk " + std::to_string(i) + " continues a sequence an "
                                              "earlier chunk of the batch already extends");
    tokens.insert(tokens.end(), chunk.tokens.begin(), chunk.tokens.end());
    const int64_t length = chunk.sequence->length();
    new_blocks += cache.blocks_for(length + static_cast<int64_t>(chunk.tokens.size())) - cache.blocks_for(length);
  }
  if (new_blocks > cache.free_blocks())
    throw Error(ErrorCode::Runtime, "KV cache full: the batch needs " + std::to_string(new_blocks) + " more blocks, " +
                                        std::to_string(cache.free_blocks()) + " of " +
                                        std::to_string(cache.shape().blocks) + " are free");
  const auto rows = static_cast<int64_t>(tokens.size());
  // Spans of this step, recorded into state.trace when it is set.
  std::vector<Trace::Event> spans;
  const Trace::Clock::time_point step_start = state.trace ? Trace::Clock::now() : Trace::Clock::time_point{};
  Trace::Clock::time_point span_start = step_start;
  const auto span = [&](std::string name, const char* op) {
    if (!state.trace) return;
    const Trace::Clock::time_point now = Trace::Clock::now();
    spans.push_back({std::move(name), "Node", span_start, now - span_start, Trace::thread_id(),
                     "\"op_name\": \"" + std::string(op) + "\", \"rows\": " + std::to_string(rows)});
    span_start = now;
  };
  state.x.resize(static_cast<size_t>(rows * c.hidden_size));
  model_.embed_tokens.forward(tokens, state.x.data());

  std::vector<int64_t> first_positions;
  state.row_sequence.clear();
  state.row_position.clear();
  for (const SequenceChunk& chunk : chunks) {
    first_positions.push_back(chunk.sequence->length());
    for (size_t t = 0; t < chunk.tokens.size(); ++t) {
      state.row_sequence.push_back(chunk.sequence);
      state.row_position.push_back(first_positions.back() + static_cast<int64_t>(t));
    }
    cache.grow(*chunk.sequence, static_cast<int64_t>(chunk.tokens.size()));
  }
  state.rope_angles.resize(static_cast<size_t>(rows * c.head_dim));
  for (int64_t r = 0; r < rows; ++r)
    rope_.angles(state.row_position[static_cast<size_t>(r)], state.rope_angles.data() + r * c.head_dim);
  span("model.embed_tokens", "embedding");
  for (size_t l = 0; l < model_.layers.size(); ++l) {
    attention_block(model_.layers[l], static_cast<int64_t>(l), chunks, first_positions, cache, state, pool);
    if (state.trace) span("model.layers." + std::to_string(l) + ".self_attn", "attention");
    mlp_block(model_.layers[l], rows, state, pool);
    if (state.trace) span("model.layers." + std::to_string(l) + ".mlp", "mlp");
  }

  // Only the rows whose logits are wanted go through the final norm and the head.
  std::vector<float>& picked = state.normed;
  picked.clear();
  int64_t row = 0;
  for (const SequenceChunk& chunk : chunks) {
    const auto n = static_cast<int64_t>(chunk.tokens.size());
    const int64_t first = chunk.all_logits ? row : row + n - 1;
    picked.insert(picked.end(), state.x.begin() + first * c.hidden_size, state.x.begin() + (row + n) * c.hidden_size);
    row += n;
  }
  state.logit_rows = static_cast<int64_t>(picked.size()) / c.hidden_size;
  model_.norm.forward(picked.data(), state.logit_rows, picked.data());
  state.logits.resize(static_cast<size_t>(state.logit_rows * c.vocab_size));
  head_.apply(picked.data(), c.hidden_size, state.logit_rows, state.logits.data(), c.vocab_size, false, pool);
  if (!state.trace) return;
  span("lm_head", "head");
  const bool prefill = rows > static_cast<int64_t>(chunks.size());
  spans.insert(spans.begin(), {prefill ? "prefill" : "decode", "Session", step_start, Trace::Clock::now() - step_start,
                               Trace::thread_id(),
                               "\"rows\": " + std::to_string(rows) + ", \"sequences\": " + std::to_string(chunks.size())});
  state.trace->add(spans);
}

void LlamaForCausalLM::attention_block(const LlamaDecoderLayer& layer, int64_t index,
                                       std::span<const SequenceChunk> chunks,
                                       const std::vector<int64_t>& first_positions, KvCache& cache,
                                       ForwardState& state, ThreadPool& pool) const {
  const LlamaConfig& c = config_;
  const int64_t rows = static_cast<int64_t>(state.x.size()) / c.hidden_size;
  const int64_t qkv_width = layer.self_attn.qkv.out(), d = c.head_dim;
  state.normed.resize(state.x.size());
  layer.input_layernorm.forward(state.x.data(), rows, state.normed.data());
  state.qkv.resize(static_cast<size_t>(rows * qkv_width));
  layer.self_attn.qkv.apply(state.normed.data(), c.hidden_size, rows, state.qkv.data(), qkv_width, false, pool);

  // Rotate q and k in place and store k and v in the cache; every row is independent.
  pool.parallel_for(rows, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      float* q = state.qkv.data() + r * qkv_width;
      float* k = q + q_width(c);
      const float* v = k + kv_width(c);
      const float* angles = state.rope_angles.data() + r * d;
      const KvSequence& sequence = *state.row_sequence[static_cast<size_t>(r)];
      const int64_t position = state.row_position[static_cast<size_t>(r)];
      rope_.rotate(q, c.num_attention_heads, angles);
      rope_.rotate(k, c.num_key_value_heads, angles);
      for (int64_t h = 0; h < c.num_key_value_heads; ++h)
        cache.write(sequence, index, h, position, k + h * d, v + h * d);
    }
  });

  state.attention.resize(static_cast<size_t>(rows * q_width(c)));
  const float scale = 1.f / std::sqrt(static_cast<float>(d));
  int64_t row = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const auto n = static_cast<int64_t>(chunks[i].tokens.size());
    const kernels::PagedQueries queries{.data = state.qkv.data() + row * qkv_width,
                                        .ld = qkv_width,
                                        .count = n,
                                        .heads = c.num_attention_heads,
                                        .first_position = first_positions[i]};
    kernels::paged_attention(level(), cache.view(*chunks[i].sequence, index), queries, scale,
                             state.attention.data() + row * q_width(c), pool);
    row += n;
  }
  layer.self_attn.o_proj.forward(state.attention.data(), q_width(c), rows, state.x.data(), true, pool);
}

void LlamaForCausalLM::mlp_block(const LlamaDecoderLayer& layer, int64_t rows, ForwardState& state,
                                 ThreadPool& pool) const {
  const int64_t inner = config_.intermediate_size;
  layer.post_attention_layernorm.forward(state.x.data(), rows, state.normed.data());
  state.gate_up.resize(static_cast<size_t>(rows * 2 * inner));
  layer.mlp.gate_up.apply(state.normed.data(), config_.hidden_size, rows, state.gate_up.data(), 2 * inner, false, pool);
  // The product overwrites the gate half of each row, which down_proj then reads with stride 2I.
  pool.parallel_for(rows, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      float* gate = state.gate_up.data() + r * 2 * inner;
      swiglu(level(), gate, gate + inner, gate, inner);
    }
  });
  layer.mlp.down_proj.forward(state.gate_up.data(), 2 * inner, rows, state.x.data(), true, pool);
}

}  // namespace kiln::llm
