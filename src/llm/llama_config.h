// The config.json of a Llama-family checkpoint as Hugging Face writes it (LlamaForCausalLM,
// MistralForCausalLM, Qwen2ForCausalLM): the model's sizes and the options the forward pass needs,
// checked for consistency. Fields a family leaves out take that family's Transformers default.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kiln::llm {

enum class Architecture { Llama, Mistral, Qwen2 };

// Llama 3.1's frequency-dependent RoPE scaling (rope_type "llama3").
struct Llama3RopeScaling {
  double factor = 8.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
};

struct LlamaConfig {
  Architecture architecture = Architecture::Llama;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;  // < num_attention_heads: grouped-query attention
  int64_t head_dim = 0;             // hidden_size / num_attention_heads unless given
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  std::optional<Llama3RopeScaling> rope_scaling;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // biases on the q, k and v projections (always for Qwen2)
  std::optional<int64_t> sliding_window;  // Mistral's, and Qwen2's when use_sliding_window is set
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;
  std::string torch_dtype;  // as written ("float32", "bfloat16", ...); empty when absent
};

// Parses config.json's text. `source` names it in errors: Error(InvalidModel) for malformed JSON,
// a missing or ill-typed field, or sizes that do not fit together (heads not dividing the hidden
// size, KV heads not dividing the heads); Error(NotImplemented) for another architecture, an
// activation other than SiLU, or a RoPE scaling other than llama3.
LlamaConfig parse_llama_config(const std::string& json_text, const std::string& source);
// Reads and parses the file; Error(Io) when it cannot be read.
LlamaConfig load_llama_config(const std::string& path);
// The config as a config.json that parse_llama_config reads back to it (how an LLM engine built
// from a GGUF keeps the config its metadata and tensors gave).
std::string llama_config_json(const LlamaConfig& config);

}  // namespace kiln::llm
