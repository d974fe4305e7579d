#include "llm/gguf_llama.h"

#include <cstring>
#include <limits>

#include "llm/ggml_blocks.h"

namespace kiln::llm {
namespace {

// Model sizes beyond int32 are no model's, and keep every product of two of them in int64.
constexpr uint64_t kMaxSize = std::numeric_limits<int32_t>::max();

int64_t size_of(const GgufMetadata& m, const std::string& key, std::optional<int64_t> fallback = std::nullopt) {
  if (!m.find(key) && fallback) return *fallback;
  const uint64_t value = m.get_uint(key);
  if (value < 1 || value > kMaxSize)
    m.fail(key, "must be between 1 and " + std::to_string(kMaxSize) + ", it is " + std::to_string(value));
  return static_cast<int64_t>(value);
}

double positive_number(const GgufMetadata& m, const std::string& key, std::optional<double> fallback = std::nullopt) {
  if (!m.find(key) && fallback) return *fallback;
  const double value = m.get_float(key);
  if (!(value > 0)) m.fail(key, "must be positive, it is " + std::to_string(value));
  return value;
}

Architecture architecture_of(const GgufMetadata& m) {
  const std::string name = m.get_string("general.architecture");
  if (name == "llama") return Architecture::Llama;
  if (name == "qwen2") return Architecture::Qwen2;
  throw Error(ErrorCode::NotImplemented,
              m.source() + ": general.architecture '" + name + "' is not supported (llama, qwen2)");
}

void check_rope(const GgufFile& file, const std::string& arch, int64_t head_dim) {
  const GgufMetadata& m = file.metadata();
  const std::string rotary = arch + ".rope.dimension_count";
  if (m.find(rotary) && size_of(m, rotary) != head_dim)
    throw Error(ErrorCode::NotImplemented, m.source() + ": " + rotary + " " + std::to_string(size_of(m, rotary)) +
                                               " differs from the head size " + std::to_string(head_dim) +
                                               "; partial rotary embeddings are not supported");
  const std::string scaling = arch + ".rope.scaling.type";
  if (m.find(scaling) && m.get_string(scaling) != "none")
    throw Error(ErrorCode::NotImplemented,
                m.source() + ": RoPE scaling type '" + m.get_string(scaling) + "' is not supported");
  if (file.find_tensor("rope_freqs.weight"))
    throw Error(ErrorCode::NotImplemented, m.source() + ": rope_freqs.weight (llama.cpp's per-frequency RoPE factors, "
                                                        "as for Llama 3.1) is not supported");
}

// The vocabulary and hidden sizes must be the token embedding's [vocab, hidden].
void check_embedding(const GgufFile& file, const LlamaConfig& c) {
  const GgufTensorInfo* embedding = file.find_tensor("token_embd.weight");
  if (embedding && embedding->shape != Shape{c.vocab_size, c.hidden_size})
    throw Error(ErrorCode::InvalidModel, file.metadata().source() + ": tensor 'token_embd.weight' has shape " +
                                             shape_to_string(embedding->shape) + ", the metadata gives " +
                                             shape_to_string({c.vocab_size, c.hidden_size}) +
                                             " (vocabulary size, embedding length)");
}

struct LayerPart {
  const char* gguf;
  const char* hf;
};
constexpr LayerPart kLayerParts[] = {
    {"attn_q", "self_attn.q_proj"},    {"attn_k", "self_attn.k_proj"},       {"attn_v", "self_attn.v_proj"},
    {"attn_output", "self_attn.o_proj"}, {"ffn_gate", "mlp.gate_proj"},      {"ffn_up", "mlp.up_proj"},
    {"ffn_down", "mlp.down_proj"},     {"attn_norm", "input_layernorm"},     {"ffn_norm", "post_attention_layernorm"},
};
constexpr LayerPart kModelParts[] = {
    {"token_embd.weight", "model.embed_tokens.weight"},
    {"output_norm.weight", "model.norm.weight"},
    {"output.weight", "lm_head.weight"},
};

// "blk.<layer>.<rest>" split into its layer (at most 9 digits, so that it fits) and rest.
std::optional<std::pair<int64_t, std::string>> split_layer_name(const std::string& name) {
  constexpr size_t kPrefix = 4, kMaxDigits = 9;
  if (name.rfind("blk.", 0) != 0) return std::nullopt;
  size_t end = kPrefix;
  int64_t layer = 0;
  while (end < name.size() && end < kPrefix + kMaxDigits && name[end] >= '0' && name[end] <= '9')
    layer = layer * 10 + (name[end++] - '0');
  if (end == kPrefix || end >= name.size() || name[end] != '.') return std::nullopt;
  return std::make_pair(layer, name.substr(end + 1));
}

}  // namespace

LlamaConfig llama_config_from_gguf(const GgufFile& file) {
  const GgufMetadata& m = file.metadata();
  LlamaConfig c;
  c.architecture = architecture_of(m);
  const std::string arch = m.get_string("general.architecture");
  const std::string heads_key = arch + ".attention.head_count";
  c.hidden_size = size_of(m, arch + ".embedding_length");
  c.num_hidden_layers = size_of(m, arch + ".block_count");
  c.intermediate_size = size_of(m, arch + ".feed_forward_length");
  c.num_attention_heads = size_of(m, heads_key);
  c.num_key_value_heads = size_of(m, arch + ".attention.head_count_kv", c.num_attention_heads);
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    m.fail(arch + ".attention.head_count_kv", std::to_string(c.num_key_value_heads) + " does not divide " + heads_key +
                                                   " " + std::to_string(c.num_attention_heads));
  const std::string key_length = arch + ".attention.key_length";
  if (!m.find(key_length) && c.hidden_size % c.num_attention_heads != 0)
    m.fail(heads_key, std::to_string(c.num_attention_heads) + " does not divide the embedding length " +
                           std::to_string(c.hidden_size) + " and " + key_length + " is not given");
  c.head_dim = size_of(m, key_length, c.hidden_size / c.num_attention_heads);
  const std::string value_length = arch + ".attention.value_length";
  if (m.find(value_length) && size_of(m, value_length) != c.head_dim)
    throw Error(ErrorCode::NotImplemented, m.source() + ": " + value_length + " differs from " + key_length);
  check_rope(file, arch, c.head_dim);
  c.max_position_embeddings = size_of(m, arch + ".context_length");
  c.rms_norm_eps = positive_number(m, arch + ".attention.layer_norm_rms_epsilon");
  c.rope_theta = positive_number(m, arch + ".rope.freq_base", 10000.0);
  const std::string vocab_size = arch + ".vocab_size";
  if (const GgufValue* tokens = m.find("tokenizer.ggml.tokens")) {
    c.vocab_size = static_cast<int64_t>(m.get_string_array("tokenizer.ggml.tokens").size());
    if (tokens->size() == 0) m.fail("tokenizer.ggml.tokens", "is empty");
  } else if (m.find(vocab_size)) {
    c.vocab_size = size_of(m, vocab_size);
  } else {
    throw Error(ErrorCode::InvalidModel, m.source() + ": neither tokenizer.ggml.tokens nor " + vocab_size +
                                             " gives the vocabulary size");
  }
  check_embedding(file, c);
  c.tie_word_embeddings = !file.find_tensor("output.weight");
  c.attention_bias = c.architecture == Architecture::Qwen2 || file.find_tensor("blk.0.attn_q.bias") != nullptr;
  c.bos_token_id = m.find_token_id("tokenizer.ggml.bos_token_id", c.vocab_size);
  if (const auto eos = m.find_token_id("tokenizer.ggml.eos_token_id", c.vocab_size)) c.eos_token_ids = {*eos};
  return c;
}

std::optional<std::string> hf_tensor_name(const std::string& gguf_name) {
  for (const LayerPart& p : kModelParts)
    if (gguf_name == p.gguf) return p.hf;
  const auto layer = split_layer_name(gguf_name);
  if (!layer) return std::nullopt;
  const std::string& rest = layer->second;
  for (const LayerPart& p : kLayerParts) {
    const std::string part = p.gguf;
    if (rest == part + ".weight" || rest == part + ".bias")
      return "model.layers." + std::to_string(layer->first) + "." + p.hf + rest.substr(part.size());
  }
  return std::nullopt;
}

std::vector<GgufLlamaTensor> llama_tensors(const GgufFile& file, const LlamaConfig& config) {
  const std::string& source = file.metadata().source();
  std::vector<GgufLlamaTensor> tensors;
  for (const GgufTensorInfo& info : file.tensors()) {
    const auto fail_tensor = [&](const std::string& problem) {
      throw Error(ErrorCode::InvalidModel, source + ": tensor '" + info.name + "' " + problem);
    };
    std::optional<std::string> hf = hf_tensor_name(info.name);
    if (!hf) fail_tensor("has no Hugging Face Llama counterpart");
    GgufLlamaTensor t{*hf, &info, 0};
    if (const auto layer = split_layer_name(info.name)) {
      if (layer->first >= config.num_hidden_layers)
        fail_tensor("is past the block count " + std::to_string(config.num_hidden_layers));
      const bool q = layer->second.rfind("attn_q.", 0) == 0, k = layer->second.rfind("attn_k.", 0) == 0;
      const int64_t heads = q ? config.num_attention_heads : config.num_key_value_heads;
      if ((q || k) && info.shape[0] != heads * config.head_dim)
        fail_tensor("has " + std::to_string(info.shape[0]) + " rows, not " + std::to_string(heads) + " heads of " +
                    std::to_string(config.head_dim));
      if ((q || k) && config.architecture == Architecture::Llama) t.permuted_heads = heads;
    }
    tensors.push_back(std::move(t));
  }
  return tensors;
}

Tensor llama_tensor_float32(const GgufFile& file, const GgufLlamaTensor& tensor) {
  Tensor values = file.to_float32(tensor.info->name);
  return tensor.permuted_heads ? unpermute_qk_rows(values, tensor.permuted_heads) : values;
}

Tensor llama_tensor_dense(const GgufFile& file, const GgufLlamaTensor& tensor) {
  Tensor values = file.dense(tensor.info->name);
  return tensor.permuted_heads ? unpermute_qk_rows(values, tensor.permuted_heads) : values;
}

namespace {

template <class Block>
nn::StoredCodes codes_of_blocks(std::span<const std::byte> raw, kernels::WeightFormat format, int64_t rows, int64_t cols) {
  constexpr int64_t kCodeBytes = sizeof(Block::qs);
  const int64_t blocks = rows * cols / Block::kElements;
  nn::StoredCodes c{.format = format, .rows = rows, .cols = cols, .group = Block::kElements};
  c.codes.resize(static_cast<size_t>(blocks * kCodeBytes));
  c.scales.resize(static_cast<size_t>(blocks));
  for (int64_t b = 0; b < blocks; ++b) {
    Block block;
    std::memcpy(&block, raw.data() + b * static_cast<int64_t>(sizeof(Block)), sizeof(Block));
    std::memcpy(c.codes.data() + b * kCodeBytes, block.qs, kCodeBytes);
    c.scales[static_cast<size_t>(b)] = to_float(block.d);
  }
  return c;
}

}  // namespace

std::optional<nn::StoredCodes> llama_tensor_codes(const GgufFile& file, const GgufLlamaTensor& tensor) {
  const GgufTensorInfo& info = *tensor.info;
  if (info.shape.size() != 2 || (info.type != GgmlType::Q8_0 && info.type != GgmlType::Q4_0)) return std::nullopt;
  const std::span<const std::byte> raw = file.raw(info.name);
  const int64_t rows = info.shape[0], cols = info.shape[1];
  nn::StoredCodes c = info.type == GgmlType::Q8_0
                          ? codes_of_blocks<BlockQ8_0>(raw, kernels::WeightFormat::Int8, rows, cols)
                          : codes_of_blocks<BlockQ4_0>(raw, kernels::WeightFormat::Int4, rows, cols);
  if (tensor.permuted_heads) {
    // A row's blocks are contiguous in both arrays, so reordering whole rows undoes the permutation.
    nn::StoredCodes ordered{.format = c.format, .rows = rows, .cols = cols, .group = c.group};
    ordered.codes.resize(c.codes.size());
    ordered.scales.resize(c.scales.size());
    unpermute_qk_rows(std::as_bytes(std::span(c.codes)), std::as_writable_bytes(std::span(ordered.codes)), rows,
                      tensor.permuted_heads);
    unpermute_qk_rows(std::as_bytes(std::span(c.scales)), std::as_writable_bytes(std::span(ordered.scales)), rows,
                      tensor.permuted_heads);
    return ordered;
  }
  return c;
}

void unpermute_qk_rows(std::span<const std::byte> src, std::span<std::byte> dst, int64_t row_count, int64_t n_head) {
  if (n_head < 1 || row_count < 1 || row_count % (2 * n_head) != 0 || src.size() % static_cast<size_t>(row_count) != 0)
    throw Error(ErrorCode::InvalidArgument, "unpermute_qk_rows: " + std::to_string(row_count) + " rows of " +
                                                std::to_string(src.size()) + " bytes do not split into " +
                                                std::to_string(n_head) + " heads of row pairs");
  if (dst.size() != src.size() || (dst.data() < src.data() + src.size() && src.data() < dst.data() + dst.size()))
    throw Error(ErrorCode::InvalidArgument, "unpermute_qk_rows: the destination must be as large as the source, apart from it");
  const size_t row_bytes = src.size() / static_cast<size_t>(row_count);
  const int64_t head_dim = row_count / n_head, half = head_dim / 2;
  // Within a head, Hugging Face's row s * half + i is llama.cpp's row 2 * i + s.
  for (int64_t h = 0; h < n_head; ++h)
    for (int64_t s = 0; s < 2; ++s)
      for (int64_t i = 0; i < half; ++i)
        std::memcpy(dst.data() + static_cast<size_t>(h * head_dim + s * half + i) * row_bytes,
                    src.data() + static_cast<size_t>(h * head_dim + 2 * i + s) * row_bytes, row_bytes);
}

Tensor unpermute_qk_rows(const Tensor& rows, int64_t n_head) {
  if (rows.rank() == 0) throw Error(ErrorCode::InvalidArgument, "unpermute_qk_rows: a scalar has no rows");
  Tensor out(rows.dtype(), rows.shape());
  const auto* src = static_cast<const std::byte*>(rows.raw());
  unpermute_qk_rows({src, rows.nbytes()}, {static_cast<std::byte*>(out.raw()), out.nbytes()}, rows.dim(0), n_head);
  return out;
}

}  // namespace kiln::llm
