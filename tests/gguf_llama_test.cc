// Llama-family GGUF files into Kiln's LlamaConfig and Hugging Face tensors: the config of tiny
// llama and qwen2 files written with the metadata keys llama.cpp writes, each error for a file
// Kiln cannot run, the tensor names, and undoing llama.cpp's Q/K row permutation, checked against
// that permutation written out from its definition.
#include "llm/gguf_llama.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <map>

#include "error_of.h"
#include "random_tensor.h"
#include "llm/ggml_blocks.h"

namespace kiln::llm {
namespace {

using testing::float_values;
using testing::random_tensor;

// llama.cpp's converter on Hugging Face's Q or K rows: viewed as [n_head, 2, head_dim/2, cols],
// axes 1 and 2 swapped, viewed back as the same shape.
Tensor permute_like_llama_cpp(const Tensor& w, int64_t n_head) {
  const int64_t rows = w.dim(0), cols = w.numel() / rows, half = rows / n_head / 2;
  Tensor out(DType::Float32, w.shape());
  for (int64_t h = 0; h < n_head; ++h)
    for (int64_t a = 0; a < 2; ++a)
      for (int64_t b = 0; b < half; ++b) {
        const int64_t from = (h * 2 + a) * half + b, to = (h * half + b) * 2 + a;
        std::memcpy(out.data<float>() + to * cols, w.data<float>() + from * cols, static_cast<size_t>(cols) * 4);
      }
  return out;
}

// A two-head, one-KV-head model of hidden size 8 (head_dim 4), one layer, vocabulary of 10.
constexpr int64_t kHidden = 8, kHeads = 2, kKvHeads = 1, kHeadDim = 4, kFfn = 16, kVocab = 10;

using Overrides = std::map<std::string, std::optional<GgufValue>>;  // nullopt: leave the key out

GgufMetadata tiny_metadata(const std::string& arch, const Overrides& overrides = {}) {
  std::vector<std::string> tokens;
  for (int64_t i = 0; i < kVocab; ++i) tokens.push_back("t" + std::to_string(i));
  std::vector<std::pair<std::string, GgufValue>> base = {
      {"general.architecture", GgufValue::of_string(arch)},
      {arch + ".context_length", GgufValue::of_uint(256)},
      {arch + ".embedding_length", GgufValue::of_uint(kHidden)},
      {arch + ".block_count", GgufValue::of_uint(1)},
      {arch + ".feed_forward_length", GgufValue::of_uint(kFfn)},
      {arch + ".attention.head_count", GgufValue::of_uint(kHeads)},
      {arch + ".attention.head_count_kv", GgufValue::of_uint(kKvHeads)},
      {arch + ".attention.layer_norm_rms_epsilon", GgufValue::of_float(1e-5)},
      {arch + ".rope.freq_base", GgufValue::of_float(500000.0)},
      {arch + ".rope.dimension_count", GgufValue::of_uint(kHeadDim)},
      {"tokenizer.ggml.tokens", GgufValue::of_strings(tokens)},
      {"tokenizer.ggml.bos_token_id", GgufValue::of_uint(1)},
      {"tokenizer.ggml.eos_token_id", GgufValue::of_uint(2)},
  };
  GgufMetadata m;
  for (auto& [key, value] : base) {
    const auto it = overrides.find(key);
    if (it == overrides.end()) m.add(key, value);
    else if (it->second) m.add(key, *it->second);
  }
  for (const auto& [key, value] : overrides)
    if (value && !m.find(key)) m.add(key, *value);
  return m;
}

// The tensors llama.cpp writes for the tiny model, with Hugging Face's shapes ([out, in]).
std::vector<GgufTensorToWrite> tiny_tensors() {
  const std::pair<const char*, Shape> shapes[] = {
      {"token_embd.weight", {kVocab, kHidden}},          {"blk.0.attn_norm.weight", {kHidden}},
      {"blk.0.attn_q.weight", {kHeads * kHeadDim, kHidden}}, {"blk.0.attn_k.weight", {kKvHeads * kHeadDim, kHidden}},
      {"blk.0.attn_v.weight", {kKvHeads * kHeadDim, kHidden}}, {"blk.0.attn_output.weight", {kHidden, kHidden}},
      {"blk.0.ffn_norm.weight", {kHidden}},              {"blk.0.ffn_gate.weight", {kFfn, kHidden}},
      {"blk.0.ffn_up.weight", {kFfn, kHidden}},          {"blk.0.ffn_down.weight", {kHidden, kFfn}},
      {"output_norm.weight", {kHidden}},
  };
  std::vector<GgufTensorToWrite> tensors;
  uint32_t seed = 0;
  for (const auto& [name, shape] : shapes) tensors.push_back({name, random_tensor(shape, ++seed), GgmlType::F32});
  return tensors;
}

GgufFile write_and_open(const std::string& name, const GgufMetadata& metadata, const std::vector<GgufTensorToWrite>& tensors) {
  const std::string path = (std::filesystem::temp_directory_path() / ("kiln_gguf_llama_" + name)).string();
  save_gguf(path, metadata, tensors);
  GgufFile file = GgufFile::open(path);
  std::filesystem::remove(path);  // the mapping outlives the name
  return file;
}

TEST(GgufLlama, ConfigOfALlamaFile) {
  const LlamaConfig c = llama_config_from_gguf(write_and_open("config", tiny_metadata("llama"), tiny_tensors()));
  EXPECT_EQ(c.architecture, Architecture::Llama);
  EXPECT_EQ(c.vocab_size, kVocab);
  EXPECT_EQ(c.hidden_size, kHidden);
  EXPECT_EQ(c.intermediate_size, kFfn);
  EXPECT_EQ(c.num_hidden_layers, 1);
  EXPECT_EQ(c.num_attention_heads, kHeads);
  EXPECT_EQ(c.num_key_value_heads, kKvHeads);
  EXPECT_EQ(c.head_dim, kHeadDim);
  EXPECT_EQ(c.max_position_embeddings, 256);
  EXPECT_NEAR(c.rms_norm_eps, 1e-5, 1e-12);  // stored as float32
  EXPECT_EQ(c.rope_theta, 500000.0);
  EXPECT_TRUE(c.tie_word_embeddings);  // no output.weight
  EXPECT_FALSE(c.attention_bias);
  EXPECT_FALSE(c.rope_scaling);
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{2});
}

TEST(GgufLlama, DefaultsAndVocabSizeKey) {
  const LlamaConfig c = llama_config_from_gguf(write_and_open(
      "defaults",
      tiny_metadata("llama", {{"llama.attention.head_count_kv", std::nullopt}, {"llama.rope.freq_base", std::nullopt},
                              {"tokenizer.ggml.tokens", std::nullopt}, {"tokenizer.ggml.bos_token_id", std::nullopt},
                              {"tokenizer.ggml.eos_token_id", std::nullopt},
                              {"llama.vocab_size", GgufValue::of_uint(kVocab)}}),
      tiny_tensors()));
  EXPECT_EQ(c.num_key_value_heads, kHeads);
  EXPECT_EQ(c.rope_theta, 10000.0);
  EXPECT_EQ(c.vocab_size, kVocab);
  EXPECT_FALSE(c.bos_token_id);
  EXPECT_TRUE(c.eos_token_ids.empty());
}

TEST(GgufLlama, Qwen2WithBiasesAndAnUntiedHead) {
  std::vector<GgufTensorToWrite> tensors = tiny_tensors();
  tensors.push_back({"blk.0.attn_q.bias", random_tensor({kHeads * kHeadDim}, 50), GgmlType::F32});
  tensors.push_back({"blk.0.attn_k.bias", random_tensor({kKvHeads * kHeadDim}, 51), GgmlType::F32});
  tensors.push_back({"blk.0.attn_v.bias", random_tensor({kKvHeads * kHeadDim}, 52), GgmlType::F32});
  tensors.push_back({"output.weight", random_tensor({kVocab, kHidden}, 53), GgmlType::F32});
  const GgufFile file = write_and_open("qwen2", tiny_metadata("qwen2"), tensors);
  const LlamaConfig c = llama_config_from_gguf(file);
  EXPECT_EQ(c.architecture, Architecture::Qwen2);
  EXPECT_TRUE(c.attention_bias);
  EXPECT_FALSE(c.tie_word_embeddings);
  // Qwen2's Q and K rows are in Hugging Face's order already.
  for (const GgufLlamaTensor& t : llama_tensors(file, c)) {
    EXPECT_EQ(t.permuted_heads, 0) << t.hf_name;
    EXPECT_EQ(float_values(llama_tensor_float32(file, t)), float_values(file.to_float32(t.info->name))) << t.hf_name;
  }
}

TEST(GgufLlama, ConfigErrorsNameTheFileAndKey) {
  struct Case {
    const char* what;
    Overrides overrides;
    ErrorCode code;
    const char* message;
  };
  const Case cases[] = {
      {"architecture", {{"general.architecture", GgufValue::of_string("gpt2")}}, ErrorCode::NotImplemented,
       "general.architecture 'gpt2' is not supported"},
      {"missing size", {{"llama.embedding_length", std::nullopt}}, ErrorCode::InvalidModel,
       "metadata key 'llama.embedding_length' is missing"},
      {"zero size", {{"llama.block_count", GgufValue::of_uint(0)}}, ErrorCode::InvalidModel,
       "'llama.block_count' must be between 1 and"},
      {"ill-typed", {{"llama.attention.layer_norm_rms_epsilon", GgufValue::of_string("1e-5")}}, ErrorCode::InvalidModel,
       "'llama.attention.layer_norm_rms_epsilon' must be a number, it is String"},
      {"kv heads", {{"llama.attention.head_count_kv", GgufValue::of_uint(3)}}, ErrorCode::InvalidModel,
       "'llama.attention.head_count_kv' 3 does not divide"},
      {"heads", {{"llama.attention.head_count", GgufValue::of_uint(3)}, {"llama.attention.head_count_kv", GgufValue::of_uint(3)}},
       ErrorCode::InvalidModel, "does not divide the embedding length 8"},
      {"partial rotary", {{"llama.rope.dimension_count", GgufValue::of_uint(2)}}, ErrorCode::NotImplemented,
       "partial rotary embeddings are not supported"},
      {"value length", {{"llama.attention.value_length", GgufValue::of_uint(8)}}, ErrorCode::NotImplemented,
       "llama.attention.value_length differs"},
      {"rope scaling", {{"llama.rope.scaling.type", GgufValue::of_string("linear")}}, ErrorCode::NotImplemented,
       "RoPE scaling type 'linear'"},
      {"no vocabulary", {{"tokenizer.ggml.tokens", std::nullopt}}, ErrorCode::InvalidModel,
       "neither tokenizer.ggml.tokens nor llama.vocab_size"},
      {"vocabulary size", {{"tokenizer.ggml.tokens", GgufValue::of_strings({"a", "b", "c"})}}, ErrorCode::InvalidModel,
       "tensor 'token_embd.weight' has shape [10,8], the metadata gives [3,8]"},
      {"eos", {{"tokenizer.ggml.eos_token_id", GgufValue::of_uint(99)}}, ErrorCode::InvalidModel,
       "'tokenizer.ggml.eos_token_id' 99 is outside the vocabulary"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const GgufFile file = write_and_open("errors", tiny_metadata("llama", c.overrides), tiny_tensors());
    const auto e = testing::error_of([&] { llama_config_from_gguf(file); });
    ASSERT_TRUE(e) << "accepted";
    const std::string message = e->what();
    EXPECT_EQ(e->code(), c.code) << message;
    EXPECT_NE(message.find(c.message), std::string::npos) << message;
    EXPECT_NE(message.find("kiln_gguf_llama_errors"), std::string::npos) << message;
  }
  std::vector<GgufTensorToWrite> with_rope_freqs = tiny_tensors();
  with_rope_freqs.push_back({"rope_freqs.weight", random_tensor({kHeadDim / 2}, 60), GgmlType::F32});
  const GgufFile llama31 = write_and_open("rope_freqs", tiny_metadata("llama"), with_rope_freqs);
  const auto e = testing::error_of([&] { llama_config_from_gguf(llama31); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), ErrorCode::NotImplemented);
  EXPECT_NE(std::string(e->what()).find("rope_freqs.weight"), std::string::npos) << e->what();
}

TEST(GgufLlama, HuggingFaceNames) {
  const std::pair<const char*, const char*> names[] = {
      {"token_embd.weight", "model.embed_tokens.weight"},
      {"output_norm.weight", "model.norm.weight"},
      {"output.weight", "lm_head.weight"},
      {"blk.0.attn_q.weight", "model.layers.0.self_attn.q_proj.weight"},
      {"blk.1.attn_k.weight", "model.layers.1.self_attn.k_proj.weight"},
      {"blk.2.attn_v.weight", "model.layers.2.self_attn.v_proj.weight"},
      {"blk.3.attn_output.weight", "model.layers.3.self_attn.o_proj.weight"},
      {"blk.4.ffn_gate.weight", "model.layers.4.mlp.gate_proj.weight"},
      {"blk.5.ffn_up.weight", "model.layers.5.mlp.up_proj.weight"},
      {"blk.6.ffn_down.weight", "model.layers.6.mlp.down_proj.weight"},
      {"blk.7.attn_norm.weight", "model.layers.7.input_layernorm.weight"},
      {"blk.31.ffn_norm.weight", "model.layers.31.post_attention_layernorm.weight"},
      {"blk.12.attn_q.bias", "model.layers.12.self_attn.q_proj.bias"},
      {"blk.12.attn_k.bias", "model.layers.12.self_attn.k_proj.bias"},
      {"blk.12.attn_v.bias", "model.layers.12.self_attn.v_proj.bias"},
  };
  for (const auto& [gguf, hf] : names) EXPECT_EQ(hf_tensor_name(gguf), std::optional<std::string>(hf)) << gguf;
  for (const char* other : {"rope_freqs.weight", "blk.x.attn_q.weight", "blk..attn_q.weight", "blk.0.attn_q.scale",
                            "blk.0", "blk.0.attn_qkv.weight", "blk.1234567890.attn_q.weight", "output.bias"})
    EXPECT_EQ(hf_tensor_name(other), std::nullopt) << other;
}

TEST(GgufLlama, UnpermuteByHand) {
  // One head of 4 rows: llama.cpp stores Hugging Face's rows [a0, a1, b0, b1] as [a0, b0, a1, b1].
  const Tensor one = unpermute_qk_rows(Tensor::from_vector<float>({4}, {0, 1, 2, 3}), 1);
  EXPECT_EQ(float_values(one), (std::vector<float>{0, 2, 1, 3}));
  const Tensor two = unpermute_qk_rows(Tensor::from_vector<float>({8, 1}, {0, 1, 2, 3, 4, 5, 6, 7}), 2);
  EXPECT_EQ(float_values(two), (std::vector<float>{0, 2, 1, 3, 4, 6, 5, 7}));
  const Tensor pairs = unpermute_qk_rows(Tensor::from_vector<int32_t>({4, 2}, {0, 1, 2, 3, 4, 5, 6, 7}), 1);
  EXPECT_EQ(pairs.to_int64_vector(), (std::vector<int64_t>{0, 1, 4, 5, 2, 3, 6, 7}));
}

TEST(GgufLlama, UnpermuteUndoesTheConvertersPermutation) {
  for (const auto& [heads, head_dim, cols] : {std::tuple<int64_t, int64_t, int64_t>{3, 8, 5}, {1, 64, 3}, {4, 6, 1}}) {
    const Tensor w = random_tensor({heads * head_dim, cols}, static_cast<uint32_t>(heads));
    const Tensor permuted = permute_like_llama_cpp(w, heads);
    EXPECT_NE(float_values(permuted), float_values(w));
    EXPECT_EQ(float_values(unpermute_qk_rows(permuted, heads)), float_values(w)) << heads << " heads";
  }
  const Tensor bias = random_tensor({16}, 7);
  EXPECT_EQ(float_values(unpermute_qk_rows(permute_like_llama_cpp(bias, 2), 2)), float_values(bias));
}

TEST(GgufLlama, UnpermuteReordersQuantizedRowsWhole) {
  // Quantizing works row by row, so quantizing the permuted rows permutes the quantized rows.
  const Tensor w = random_tensor({kHeads * kHeadDim, 64}, 8);
  const GgufFile file = write_and_open("q8_rows", {},
                                       {{"permuted", permute_like_llama_cpp(w, kHeads), GgmlType::Q8_0},
                                        {"plain", w, GgmlType::Q8_0}, {"q4", permute_like_llama_cpp(w, kHeads), GgmlType::Q4_0},
                                        {"q4_plain", w, GgmlType::Q4_0}});
  for (const auto& [permuted, plain] : {std::pair{"permuted", "plain"}, {"q4", "q4_plain"}}) {
    const std::span<const std::byte> src = file.raw(permuted);
    std::vector<std::byte> rows(src.size());
    unpermute_qk_rows(src, rows, w.dim(0), kHeads);
    ASSERT_EQ(rows.size(), file.raw(plain).size());
    EXPECT_EQ(std::memcmp(rows.data(), file.raw(plain).data(), rows.size()), 0) << permuted;
  }
}

TEST(GgufLlama, UnpermuteRejectsRowsThatDoNotSplitIntoHeads) {
  const Tensor w = random_tensor({6, 2}, 9);
  EXPECT_THROW(unpermute_qk_rows(w, 2), Error);  // 6 rows are not 2 heads of row pairs
  EXPECT_THROW(unpermute_qk_rows(w, 0), Error);
  EXPECT_THROW(unpermute_qk_rows(Tensor::scalar<float>(1.f), 1), Error);
  std::vector<std::byte> bytes(48);
  EXPECT_THROW(unpermute_qk_rows(bytes, std::span<std::byte>(bytes), 6, 1), Error);  // in place
  std::vector<std::byte> small(24);
  EXPECT_THROW(unpermute_qk_rows(bytes, small, 6, 1), Error);
}

TEST(GgufLlama, TensorsLoadInHuggingFaceLayout) {
  // The Hugging Face weights, written as llama.cpp's converter writes them.
  const std::vector<GgufTensorToWrite> hf = tiny_tensors();
  std::vector<GgufTensorToWrite> converted = hf;
  converted[2].values = permute_like_llama_cpp(hf[2].values, kHeads);    // attn_q
  converted[3].values = permute_like_llama_cpp(hf[3].values, kKvHeads);  // attn_k
  const GgufFile file = write_and_open("tensors", tiny_metadata("llama"), converted);
  const LlamaConfig config = llama_config_from_gguf(file);
  const std::vector<GgufLlamaTensor> tensors = llama_tensors(file, config);
  ASSERT_EQ(tensors.size(), hf.size());
  for (size_t i = 0; i < hf.size(); ++i) {
    EXPECT_EQ(tensors[i].hf_name, hf_tensor_name(hf[i].name));
    EXPECT_EQ(tensors[i].permuted_heads, i == 2 ? kHeads : i == 3 ? kKvHeads : 0) << hf[i].name;
    EXPECT_EQ(float_values(llama_tensor_float32(file, tensors[i])), float_values(hf[i].values)) << hf[i].name;
  }
}

TEST(GgufLlama, TensorMappingErrorsNameTheTensor) {
  const auto message_for = [](const std::string& name, Shape shape) -> std::string {
    std::vector<GgufTensorToWrite> tensors = tiny_tensors();
    tensors.push_back({name, random_tensor(std::move(shape), 70), GgmlType::F32});
    const GgufFile file = write_and_open("mapping", tiny_metadata("llama"), tensors);
    const auto e = testing::error_of([&] { llama_tensors(file, llama_config_from_gguf(file)); });
    if (!e) return "accepted";
    EXPECT_EQ(e->code(), ErrorCode::InvalidModel);
    return e->what();
  };
  EXPECT_NE(message_for("blk.0.attn_qkv.weight", {24, 8}).find("tensor 'blk.0.attn_qkv.weight' has no Hugging Face"),
            std::string::npos);
  EXPECT_NE(message_for("blk.1.attn_v.weight", {4, 8}).find("tensor 'blk.1.attn_v.weight' is past the block count 1"),
            std::string::npos);
  EXPECT_NE(message_for("blk.0.attn_q.bias", {6}).find("tensor 'blk.0.attn_q.bias' has 6 rows, not 2 heads of 4"),
            std::string::npos);
}

}  // namespace
}  // namespace kiln::llm
