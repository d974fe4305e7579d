// Llama models loaded from GGUF files compute what the same weights compute when loaded from a
// Hugging Face checkpoint: F32 and F16 files as float, Q8_0 and Q4_0 files through the int8 and
// int4 kernels in groups of 32 with the very values the file stores, so the logits are identical.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "kernels/cpu/weight_gemv.h"
#include "llm/gguf_llama.h"
#include "llm/llama_loader.h"
#include "map_state_source.h"
#include "random_tensor.h"

namespace kiln::llm {
namespace {

using testing::float_values;
using testing::map_source;
using testing::random_tensor;

// Rows are multiples of 32, as the block types need: hidden 64, 4 heads of 16, 2 KV heads.
LlamaConfig tiny_config() {
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

GgufMetadata metadata_of(const LlamaConfig& c) {
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
Tensor permute_like_llama_cpp(const Tensor& w, int64_t n_head) {
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
TinyWeights tiny_weights(const LlamaConfig& c, GgmlType type) {
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


std::vector<float> prompt_logits(const LlamaForCausalLM& model) {
  ThreadPool pool(1);
  KvCache cache(model.kv_cache_shape(4, 16));
  KvSequence sequence;
  ForwardState state;
  const std::vector<int32_t> prompt = {3, 17, 42, 5, 63, 0, 9, 28, 33};
  const SequenceChunk chunk[] = {{&sequence, prompt, true}};
  model.forward(chunk, cache, state, pool);
  return state.logits;
}

struct Case {
  GgmlType type;
  nn::WeightQuant expected_quant;
};

class GgufModel : public ::testing::TestWithParam<Case> {};

TEST_P(GgufModel, ComputesWhatTheSameWeightsComputeFromAHuggingFaceCheckpoint) {
  const LlamaConfig config = tiny_config();
  const TinyWeights weights = tiny_weights(config, GetParam().type);
  const std::string path = (std::filesystem::temp_directory_path() /
                            (std::string("kiln_gguf_model_") + ggml_type_name(GetParam().type) + ".gguf"))
                               .string();
  save_gguf(path, metadata_of(config), weights.gguf);
  const GgufFile file = GgufFile::open(path);
  EXPECT_EQ(gguf_stored_quant(file).kind, GetParam().expected_quant.kind);
  EXPECT_EQ(gguf_stored_quant(file).group, GetParam().expected_quant.group);
  const nn::PrepareOptions options{.level = default_cpu_level()};
  const auto from_gguf = load_llama(path, options);
  std::filesystem::remove(path);

  // The reference: the values the file holds (rounded to f16, or quantized), as float32 in Hugging
  // Face's layout, quantized again at load with the stored format's rounding. Requantizing Q8_0 and
  // Q4_0 blocks reproduces them exactly, so both models compute with the same weights.
  std::map<std::string, Tensor> stored;
  for (const GgufLlamaTensor& t : llama_tensors(file, config)) stored.emplace(t.hf_name, llama_tensor_float32(file, t));
  for (const char* name : {"model.layers.0.self_attn.k_proj.weight", "model.layers.1.mlp.up_proj.weight"})
    EXPECT_EQ(GetParam().type == GgmlType::F32, float_values(stored.at(name)) == float_values(weights.hf.at(name)))
        << name << ": exact only when stored as F32, with the Q/K rows back in order";
  // Q8_0 and Q4_0 tensors' codes as stored, Q/K rows included, are the file's values; the GGUF
  // model computes with them, the Hugging Face one quantizes the values again.
  for (const GgufLlamaTensor& t : llama_tensors(file, config)) {
    const std::optional<nn::StoredCodes> codes = llama_tensor_codes(file, t);
    const bool blocks = t.info->shape.size() == 2 && t.info->type != GgmlType::F32 &&
                        (GetParam().type == GgmlType::Q8_0 || GetParam().type == GgmlType::Q4_0);
    ASSERT_EQ(codes.has_value(), blocks) << t.hf_name;
    if (!codes) continue;
    std::vector<float> values(static_cast<size_t>(codes->rows * codes->cols));
    kernels::dequantize_rows_ref(codes->view(), 0, codes->rows, values.data(), codes->cols);
    EXPECT_EQ(values, float_values(stored.at(t.hf_name))) << t.hf_name;
  }
  LlamaForCausalLM from_hf(config);
  from_hf.prepare({.level = options.level, .quant = GetParam().expected_quant});
  from_hf.load_state_dict(map_source(stored));
  // The file's dense weights keep their dtype; Q/K rows are back in Hugging Face's order.
  EXPECT_EQ(from_gguf->parameter("model.layers.0.self_attn.q_proj.weight").dtype(),
            GetParam().type == GgmlType::F16 ? DType::Float16 : DType::Float32);
  EXPECT_EQ(prompt_logits(*from_gguf), prompt_logits(from_hf));
}

INSTANTIATE_TEST_SUITE_P(Types, GgufModel,
                         ::testing::Values(Case{GgmlType::F32, {}}, Case{GgmlType::F16, {}},
                                           Case{GgmlType::Q8_0, {nn::WeightQuant::Int8, 32}},
                                           Case{GgmlType::Q4_0, {nn::WeightQuant::Int4, 32}}),
                         [](const auto& param_info) { return std::string(ggml_type_name(param_info.param.type)); });

TEST(GgufModel, AnExplicitQuantizationOverridesTheStoredOne) {
  const LlamaConfig config = tiny_config();
  const std::string path = (std::filesystem::temp_directory_path() / "kiln_gguf_model_override.gguf").string();
  save_gguf(path, metadata_of(config), tiny_weights(config, GgmlType::F32).gguf);
  const auto model = load_llama(path, {.level = CpuLevel::Scalar, .quant = {nn::WeightQuant::Int4, 32}});
  std::filesystem::remove(path);
  EXPECT_EQ(model->prepared_for().quant.kind, nn::WeightQuant::Int4);
}

}  // namespace
}  // namespace kiln::llm
