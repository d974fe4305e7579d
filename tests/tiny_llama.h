// A tiny Llama as GGUF and Hugging Face weights side by side, and the logits of a fixed prompt:
// what the GGUF and LLM engine tests compare models by.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "llm/gguf.h"
#include "llm/gguf_llama.h"
#include "llm/llama_model.h"
#include "random_tensor.h"

namespace kiln::llm::testing {

using kiln::testing::random_tensor;

// Rows are multiples of 32, as the block types need: hidden 64, 4 heads of 16, 2 KV heads.
inline LlamaConfig tiny_config() {
  LlamaConfig c;
  c.vocab_size = 64;
  c.hidden_size = 64;
  c.intermediate_size = 96;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.head_dim = 16;
  c.max_position_embeddings = 128;
  c.rms_norm_eps = 0x1p-16;  // exact in the file's float32
  c.rope_theta = 10000.0;
  return c;
}

inline GgufMetadata metadata_of(const LlamaConfig& c) {
  std::vector<std::string> tokens;
  for (int64_t i = 0; i < c.vocab_size; ++i) tokens.push_back("t" + std::to_string(i));
  GgufMetadata m;
  m.add("general.architecture", GgufValue::of_string("llama"));
  m.add("llama.context_length", GgufValue::of_uint(static_cast<uint64_t>(c.max_position_embeddings)));
  m.add("llama.embedding_length", GgufValue::of_uint(static_cast<uint64_t>(c.hidden_size)));
  m.add("llama.block_count", GgufValue::of_uint(static_cast<uint64_t>(c.num_hidden_layers)));
  m.add("llama.feed_forward_length", GgufValue::of_uint(static_cast<uint64_t>(c.intermediate_size)));
  m.add("llama.attention.head_count", GgufValue::of_uint(static_cast<uint64_t>(c.num_attention_heads)));
  m.add("llama.attention.head_count_kv", GgufValue::of_uint(static_cast<uint64_t>(c.num_key_value_heads)));
  m.add("llama.attention.layer_norm_rms_epsilon", GgufValue::of_float(c.rms_norm_eps));
  m.add("llama.rope.freq_base", GgufValue::of_float(c.rope_theta));
  m.add("tokenizer.ggml.tokens", GgufValue::of_strings(tokens));
  return m;
}

// llama.cpp's converter on Q or K rows: each head's [2, head_dim/2] rows become [head_dim/2, 2].
inline Tensor permute_like_llama_cpp(const Tensor& w, int64_t n_head) {
  const int64_t rows = w.dim(0), cols = w.dim(1), half = rows / n_head / 2;
  Tensor out(DType::Float32, w.shape());
  for (int64_t h = 0; h < n_head; ++h)
    for (int64_t a = 0; a < 2; ++a)
      for (int64_t b = 0; b < half; ++b)
        std::copy_n(w.data<float>() + ((h * 2 + a) * half + b) * cols, cols,
                    out.data<float>() + ((h * half + b) * 2 + a) * cols);
  return out;
}

struct TinyWeights {
  std::map<std::string, Tensor> hf;      // Hugging Face names and layout
  std::vector<GgufTensorToWrite> gguf;  // llama.cpp's names and layout, stored as `type`
};

// Random weights; norms and the embedding stay F32 as llama.cpp's quantizer keeps 1-D tensors so.
inline TinyWeights tiny_weights(const LlamaConfig& c, GgmlType type) {
  const int64_t h = c.hidden_size, f = c.intermediate_size, q = c.num_attention_heads * c.head_dim,
                kv = c.num_key_value_heads * c.head_dim;
  std::vector<std::pair<std::string, Shape>> shapes = {
      {"token_embd.weight", {c.vocab_size, h}}, {"output_norm.weight", {h}}, {"output.weight", {c.vocab_size, h}}};
  for (int64_t layer = 0; layer < c.num_hidden_layers; ++layer) {
    const std::string blk = "blk." + std::to_string(layer) + ".";
    for (auto& [part, shape] : std::vector<std::pair<std::string, Shape>>{
             {"attn_norm", {h}}, {"attn_q", {q, h}}, {"attn_k", {kv, h}}, {"attn_v", {kv, h}}, {"attn_output", {h, q}},
             {"ffn_norm", {h}}, {"ffn_gate", {f, h}}, {"ffn_up", {f, h}}, {"ffn_down", {h, f}}})
      shapes.push_back({blk + part + ".weight", shape});
  }
  TinyWeights w;
  uint32_t seed = 0;
  for (const auto& [name, shape] : shapes) {
    Tensor values = random_tensor(shape, ++seed, -0.5f, 0.5f);
    const std::string hf = *hf_tensor_name(name);
    const bool is_q = name.find("attn_q") != std::string::npos, is_k = name.find("attn_k") != std::string::npos;
    Tensor stored = is_q ? permute_like_llama_cpp(values, c.num_attention_heads)
                  : is_k ? permute_like_llama_cpp(values, c.num_key_value_heads)
                         : values;
    const bool keep_f32 = shape.size() == 1 || name == "token_embd.weight";
    w.gguf.push_back({name, std::move(stored), keep_f32 ? GgmlType::F32 : type});
    w.hf.emplace(hf, std::move(values));
  }
  return w;
}


inline std::vector<float> prompt_logits(const LlamaForCausalLM& model) {
  ThreadPool pool(1);
  KvCache cache(model.kv_cache_shape(4, 16));
  KvSequence sequence;
  ForwardState state;
  const std::vector<int32_t> prompt = {3, 17, 42, 5, 63, 0, 9, 28, 33};
  const SequenceChunk chunk[] = {{&sequence, prompt, true}};
  model.forward(chunk, cache, state, pool);
  return state.logits;
}

}  // namespace kiln::llm::testing
