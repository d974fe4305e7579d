// config.json of the Llama family as the Hugging Face Hub ships it (the fields of TinyLlama-1.1B,
// Llama-3.1-8B, Qwen2-0.5B and Mistral-7B-v0.1), the family defaults, and the errors for configs
// Kiln cannot run.
#include "llm/llama_config.h"

#include <gtest/gtest.h>

#include "kiln/error.h"

namespace kiln::llm {
namespace {

TEST(LlamaConfig, TinyLlama) {
  const LlamaConfig c = parse_llama_config(R"({
    "architectures": ["LlamaForCausalLM"], "attention_bias": false, "bos_token_id": 1, "eos_token_id": 2,
    "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 5632,
    "max_position_embeddings": 2048, "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 22,
    "num_key_value_heads": 4, "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": null,
    "rope_theta": 10000.0, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "use_cache": true,
    "vocab_size": 32000})", "config.json");
  EXPECT_EQ(c.architecture, Architecture::Llama);
  EXPECT_EQ(c.hidden_size, 2048);
  EXPECT_EQ(c.intermediate_size, 5632);
  EXPECT_EQ(c.num_hidden_layers, 22);
  EXPECT_EQ(c.num_attention_heads, 32);
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.vocab_size, 32000);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_FALSE(c.rope_scaling);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_FALSE(c.attention_bias);
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{2});
  EXPECT_EQ(c.torch_dtype, "bfloat16");
}

TEST(LlamaConfig, Llama31WithLlama3RopeScalingAndSeveralEosTokens) {
  const LlamaConfig c = parse_llama_config(R"({
    "architectures": ["LlamaForCausalLM"], "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009],
    "hidden_act": "silu", "hidden_size": 4096, "intermediate_size": 14336, "max_position_embeddings": 131072,
    "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
    "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
    "rope_theta": 500000.0, "vocab_size": 128256})", "config.json");
  ASSERT_TRUE(c.rope_scaling);
  EXPECT_DOUBLE_EQ(c.rope_scaling->factor, 8.0);
  EXPECT_DOUBLE_EQ(c.rope_scaling->high_freq_factor, 4.0);
  EXPECT_EQ(c.rope_scaling->original_max_position_embeddings, 8192);
  EXPECT_DOUBLE_EQ(c.rope_theta, 500000.0);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{128001, 128008, 128009}));
  EXPECT_EQ(c.head_dim, 128);
}

TEST(LlamaConfig, Qwen2HasQkvBiasesTiedEmbeddingsAndNoSlidingWindowUnlessAsked) {
  const std::string qwen = R"({
    "architectures": ["Qwen2ForCausalLM"], "bos_token_id": 151643, "eos_token_id": 151643, "hidden_act": "silu",
    "hidden_size": 896, "intermediate_size": 4864, "max_position_embeddings": 32768, "max_window_layers": 24,
    "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24, "num_key_value_heads": 2,
    "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": true,
    "torch_dtype": "bfloat16", "use_sliding_window": false, "vocab_size": 151936})";
  const LlamaConfig c = parse_llama_config(qwen, "config.json");
  EXPECT_EQ(c.architecture, Architecture::Qwen2);
  EXPECT_TRUE(c.attention_bias);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_FALSE(c.sliding_window);
  EXPECT_EQ(c.head_dim, 64);
  std::string windowed = qwen;
  windowed.replace(windowed.find("\"use_sliding_window\": false"), 27, "\"use_sliding_window\": true");
  EXPECT_EQ(parse_llama_config(windowed, "config.json").sliding_window, 32768);
}

TEST(LlamaConfig, MistralKeepsItsSlidingWindowAndDefaultsKvHeads) {
  const LlamaConfig c = parse_llama_config(R"({
    "architectures": ["MistralForCausalLM"], "hidden_size": 4096, "intermediate_size": 14336,
    "num_attention_heads": 32, "num_hidden_layers": 32, "sliding_window": 4096, "vocab_size": 32000})",
                                           "config.json");
  EXPECT_EQ(c.architecture, Architecture::Mistral);
  EXPECT_EQ(c.sliding_window, 4096);
  EXPECT_EQ(c.num_key_value_heads, 32);  // absent: one KV head per head
  EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
  EXPECT_TRUE(c.eos_token_ids.empty());
}

TEST(LlamaConfig, ExplicitHeadDimNeedNotDivideTheHiddenSize) {
  const LlamaConfig c = parse_llama_config(R"({"model_type": "llama", "hidden_size": 100, "intermediate_size": 7,
    "num_attention_heads": 3, "num_hidden_layers": 1, "head_dim": 32, "vocab_size": 10})", "config.json");
  EXPECT_EQ(c.head_dim, 32);
}

// llama_config_json writes what parse_llama_config reads back to the same config, for each family
// and the options they carry (RoPE scaling, several EOS ids, biases, tied embeddings, windows).
TEST(LlamaConfig, JsonReadsBackToTheSameConfig) {
  LlamaConfig llama31 = parse_llama_config(R"({
    "architectures": ["LlamaForCausalLM"], "bos_token_id": 128000, "eos_token_id": [128001, 128009],
    "hidden_act": "silu", "hidden_size": 4096, "intermediate_size": 14336, "max_position_embeddings": 131072,
    "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
    "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
    "rope_theta": 500000.0, "torch_dtype": "bfloat16", "vocab_size": 128256})", "llama31.json");
  LlamaConfig qwen = parse_llama_config(R"({
    "architectures": ["Qwen2ForCausalLM"], "hidden_size": 896, "intermediate_size": 4864, "num_attention_heads": 14,
    "num_hidden_layers": 24, "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
    "sliding_window": 4096, "use_sliding_window": true, "tie_word_embeddings": true, "vocab_size": 151936})", "qwen.json");
  LlamaConfig mistral = parse_llama_config(R"({
    "architectures": ["MistralForCausalLM"], "hidden_size": 4096, "intermediate_size": 14336, "head_dim": 160,
    "num_attention_heads": 32, "num_hidden_layers": 32, "vocab_size": 32000, "rms_norm_eps": 0.1234567890123})",
                                           "mistral.json");
  for (const LlamaConfig* c : {&llama31, &qwen, &mistral}) {
    const std::string written = llama_config_json(*c);
    const LlamaConfig back = parse_llama_config(written, "written.json");
    EXPECT_EQ(llama_config_json(back), written);
    EXPECT_EQ(back.architecture, c->architecture);
    EXPECT_EQ(back.head_dim, c->head_dim);
    EXPECT_EQ(back.rms_norm_eps, c->rms_norm_eps);
    EXPECT_EQ(back.rope_scaling.has_value(), c->rope_scaling.has_value());
    EXPECT_EQ(back.sliding_window, c->sliding_window);
    EXPECT_EQ(back.tie_word_embeddings, c->tie_word_embeddings);
    EXPECT_EQ(back.attention_bias, c->attention_bias);
    EXPECT_EQ(back.bos_token_id, c->bos_token_id);
    EXPECT_EQ(back.eos_token_ids, c->eos_token_ids);
  }
}

TEST(LlamaConfig, ConfigsKilnCannotRunGiveClearErrors) {
  const std::string base = R"("hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4,
    "num_hidden_layers": 2, "vocab_size": 100)";
  struct Case {
    std::string text;
    ErrorCode code;
    const char* message;
  };
  const Case cases[] = {
      {"{\"architectures\": [\"GPT2LMHeadModel\"], " + base + "}", ErrorCode::NotImplemented, "GPT2LMHeadModel"},
      {"{\"model_type\": \"gpt2\", " + base + "}", ErrorCode::NotImplemented, "model_type 'gpt2'"},
      {"{\"model_type\": \"llama\", \"hidden_act\": \"gelu\", " + base + "}", ErrorCode::NotImplemented,
       "hidden_act 'gelu'"},
      {"{\"model_type\": \"llama\", \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2}, " + base + "}",
       ErrorCode::NotImplemented, "rope_scaling type 'linear'"},
      {R"({"model_type": "llama", "intermediate_size": 8, "num_attention_heads": 4, "num_hidden_layers": 2,
          "vocab_size": 10})", ErrorCode::InvalidModel, "hidden_size is missing"},
      {"{\"model_type\": \"llama\", \"num_key_value_heads\": 3, " + base + "}", ErrorCode::InvalidModel,
       "3 does not divide num_attention_heads 4"},
      {R"({"model_type": "llama", "hidden_size": 66, "intermediate_size": 8, "num_attention_heads": 4,
          "num_hidden_layers": 2, "vocab_size": 10})", ErrorCode::InvalidModel, "does not divide hidden_size 66"},
      {R"({"model_type": "llama", "hidden_size": "64", "intermediate_size": 8, "num_attention_heads": 4,
          "num_hidden_layers": 2, "vocab_size": 10})", ErrorCode::InvalidModel, "hidden_size must be an integer"},
      {R"({"model_type": "llama", "hidden_size": 64, "intermediate_size": 8, "num_attention_heads": 4,
          "num_hidden_layers": -2, "vocab_size": 10})", ErrorCode::InvalidModel, "num_hidden_layers must be positive"},
      {"{\"model_type\": \"llama\", \"eos_token_id\": 100, " + base + "}", ErrorCode::InvalidModel,
       "eos_token_id 100 is outside the vocabulary"},
      {"{\"model_type\": \"llama\", \"rms_norm_eps\": 0, " + base + "}", ErrorCode::InvalidModel,
       "rms_norm_eps must be positive"},
      {"{\"model_type\": \"llama\", \"rope_scaling\": {\"rope_type\": \"llama3\", \"low_freq_factor\": 4, "
       "\"high_freq_factor\": 1}, " + base + "}",
       ErrorCode::InvalidModel, "high_freq_factor must be larger"},
      {"{\"model_type\": \"llama\", " + base, ErrorCode::InvalidModel, "not JSON"},
      {"[1, 2]", ErrorCode::InvalidModel, "not a JSON object"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    try {
      parse_llama_config(c.text, "model/config.json");
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), c.code);
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).rfind("model/config.json", 0), 0u) << e.what();
    }
  }
  EXPECT_THROW(load_llama_config("/nonexistent/config.json"), Error);
}

}  // namespace
}  // namespace kiln::llm
