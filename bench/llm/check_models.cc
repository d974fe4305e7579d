// check_models DIR: proves that the GGUF files bench/llm/make_model.py wrote into DIR hold the
// same weights as its Hugging Face directory DIR/hf, read by Kiln's own GGUF code (which its
// tests hold to llama.cpp's): the configuration from the llama.* keys equals config.json's, and
// for every tensor, with llama.cpp's Q/K row order undone,
//   model-f16.gguf   holds the f16 values bit for bit (norms as F32 of the same values),
//   model-q8_0.gguf  holds the Q8_0 blocks ggml's reference quantizer makes of them,
//   model-q4_0.gguf  holds the Q4_0 blocks likewise.
// So the two engines of bench/llm/run.sh compute with the same numbers. Prints one line per file
// and exits 0, or names the first tensor and block that differ and exits 1.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <vector>

#include "kiln/error.h"
#include "llm/checkpoint.h"
#include "llm/ggml_blocks.h"
#include "llm/gguf_llama.h"
#include "llm/llama_config.h"

namespace kiln::llm {
namespace {

[[noreturn]] void differ(const std::string& what) { throw Error(ErrorCode::InvalidModel, what); }

void check_config(const LlamaConfig& gguf, const LlamaConfig& hf, const std::string& file) {
  const bool same = gguf.vocab_size == hf.vocab_size && gguf.hidden_size == hf.hidden_size &&
                    gguf.intermediate_size == hf.intermediate_size && gguf.num_hidden_layers == hf.num_hidden_layers &&
                    gguf.num_attention_heads == hf.num_attention_heads &&
                    gguf.num_key_value_heads == hf.num_key_value_heads && gguf.head_dim == hf.head_dim &&
                    static_cast<float>(gguf.rms_norm_eps) == static_cast<float>(hf.rms_norm_eps) &&
                    gguf.rope_theta == hf.rope_theta && gguf.tie_word_embeddings == hf.tie_word_embeddings;
  if (!same) differ(file + ": the llama.* keys describe another model than config.json");
}

// The blocks `quantize` makes of `x` (rows a multiple of 32).
template <class Block, Block (*quantize)(const float*)>
std::vector<std::byte> quantized(const std::vector<float>& x) {
  const size_t blocks = x.size() / Block::kElements;
  std::vector<std::byte> out(blocks * sizeof(Block));
  for (size_t b = 0; b < blocks; ++b) {
    const Block block = quantize(x.data() + b * Block::kElements);
    std::memcpy(out.data() + b * sizeof(Block), &block, sizeof block);
  }
  return out;
}

// What the file should hold for the Hugging Face tensor `hf` (f16, as make_model.py writes it)
// stored as `type`, in HF's row order.
std::vector<std::byte> expected_bytes(const Tensor& hf, GgmlType type, const std::string& name) {
  if (hf.dtype() != DType::Float16) differ(name + " is not float16 in the HF checkpoint");
  const auto* h = hf.data<Float16>();
  std::vector<float> values(static_cast<size_t>(hf.numel()));
  for (size_t i = 0; i < values.size(); ++i) values[i] = to_float(h[i]);
  const auto bytes_of = [](const void* p, size_t n) {
    const auto* b = static_cast<const std::byte*>(p);
    return std::vector<std::byte>(b, b + n);
  };
  switch (type) {
    case GgmlType::F32: return bytes_of(values.data(), values.size() * sizeof(float));
    case GgmlType::F16: return bytes_of(hf.raw(), hf.nbytes());
    case GgmlType::Q8_0: return quantized<BlockQ8_0, quantize_block_q8_0>(values);
    case GgmlType::Q4_0: return quantized<BlockQ4_0, quantize_block_q4_0>(values);
    case GgmlType::BF16: break;
  }
  differ(name + " is stored as " + ggml_type_name(type) + ", which make_model.py does not write");
}

void check_file(const std::string& path, const Checkpoint& hf, const LlamaConfig& hf_config) {
  const GgufFile file = GgufFile::open(path);
  const LlamaConfig config = llama_config_from_gguf(file);
  check_config(config, hf_config, path);
  const std::vector<GgufLlamaTensor> tensors = llama_tensors(file, config);
  if (tensors.size() != hf.names().size())
    differ(path + ": " + std::to_string(tensors.size()) + " tensors, the HF checkpoint has " + std::to_string(hf.names().size()));
  for (const GgufLlamaTensor& t : tensors) {
    const Tensor source = hf.tensor(t.hf_name);
    if (source.shape() != t.info->shape) differ(path + ": " + t.info->name + " has another shape than " + t.hf_name);
    const std::span<const std::byte> raw = file.raw(t.info->name);
    std::vector<std::byte> stored(raw.begin(), raw.end());
    if (t.permuted_heads) unpermute_qk_rows(raw, stored, t.info->shape.front(), t.permuted_heads);
    const std::vector<std::byte> expected = expected_bytes(source, t.info->type, t.info->name);
    if (expected.size() != stored.size()) differ(path + ": " + t.info->name + " holds another number of bytes");
    const auto [at, _] = std::mismatch(expected.begin(), expected.end(), stored.begin());
    if (at != expected.end())
      differ(path + ": " + t.info->name + " (" + ggml_type_name(t.info->type) + ") differs from " + t.hf_name +
             " at byte " + std::to_string(at - expected.begin()));
  }
  std::cout << path << ": " << tensors.size() << " tensors match " << hf_config.num_hidden_layers << "-layer HF weights\n";
}

}  // namespace
}  // namespace kiln::llm

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: check_models DIR   (what bench/llm/make_model.py wrote)\n";
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  try {
    const kiln::llm::Checkpoint hf = kiln::llm::Checkpoint::open((dir / "hf").string());
    const kiln::llm::LlamaConfig config = kiln::llm::load_llama_config((dir / "hf" / "config.json").string());
    for (const char* format : {"f16", "q8_0", "q4_0"})
      kiln::llm::check_file((dir / (std::string("model-") + format + ".gguf")).string(), hf, config);
  } catch (const kiln::Error& e) {
    std::cerr << "check_models: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
