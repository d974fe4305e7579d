// A Llama-family GGUF (llama.cpp's "llama" architecture, which it also writes for Mistral, and
// "qwen2") as the rest of Kiln takes a Hugging Face checkpoint: the LlamaConfig its metadata
// describes, and its tensors under Hugging Face's names with the Q and K rows back in Hugging
// Face's order.
//
// llama.cpp's converter reorders the rows of each head of the Q and K projections (llama
// architecture only; Qwen2 keeps Hugging Face's layout): Hugging Face's rotary embedding pairs row
// i of a head with row i + head_dim/2, ggml's with row i + 1, so the converter views each head's
// rows as [2, head_dim/2] and transposes them to [head_dim/2, 2]. unpermute_qk_rows undoes that.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "llm/gguf.h"
#include "llm/llama_config.h"
#include "llm/nn/parameter.h"

namespace kiln::llm {

// From general.architecture and the <arch>.* and tokenizer.ggml.* keys; the vocabulary size from
// tokenizer.ggml.tokens, else <arch>.vocab_size; a tied head when there is no output.weight.
// Throws Error(InvalidModel) naming the file and key for a missing or ill-typed key or sizes that
// do not fit together (heads, head_dim, the token embedding's shape), and Error(NotImplemented) for
// another architecture, rotary dims other than head_dim, or RoPE scaling (a scaling type, or
// llama.cpp's rope_freqs.weight of Llama 3.1's factors).
LlamaConfig llama_config_from_gguf(const GgufFile& file);

// The Hugging Face name of a llama.cpp tensor name ("blk.3.attn_q.weight" ->
// "model.layers.3.self_attn.q_proj.weight"); nullopt for a name it has no counterpart for.
std::optional<std::string> hf_tensor_name(const std::string& gguf_name);

struct GgufLlamaTensor {
  std::string hf_name;
  const GgufTensorInfo* info = nullptr;  // into the file it came from
  // The heads whose rows llama.cpp permuted (Q: the attention heads, K: the KV heads); 0 when the
  // rows are in Hugging Face's order.
  int64_t permuted_heads = 0;
};

// Every tensor of the file, in file order, under its Hugging Face name. Throws
// Error(InvalidModel) naming the file and tensor for a name without a counterpart, a layer past
// the block count, or Q/K rows that are not the heads' rows.
std::vector<GgufLlamaTensor> llama_tensors(const GgufFile& file, const LlamaConfig& config);
// The tensor's values as float32 in Hugging Face's layout.
Tensor llama_tensor_float32(const GgufFile& file, const GgufLlamaTensor& tensor);
// The same, kept as the file stores it when that is a dense float type (F32, F16, BF16); block
// types (Q8_0, Q4_0) as float32.
Tensor llama_tensor_dense(const GgufFile& file, const GgufLlamaTensor& tensor);

// The codes of a Q8_0 or Q4_0 matrix as stored, in Hugging Face's row order: Q8_0 as Int8 and Q4_0
// as Int4 in groups of 32 (the blocks' own layout), each block's float16 scale as a float; nullopt
// for any other type or a tensor that is not a matrix.
std::optional<nn::StoredCodes> llama_tensor_codes(const GgufFile& file, const GgufLlamaTensor& tensor);
// Hugging Face's row order from llama.cpp's, for `rows` of any dense dtype whose first dim is
// n_head * head_dim rows (a 1-D bias: rows of one element).
Tensor unpermute_qk_rows(const Tensor& rows, int64_t n_head);
// The same over `row_count` rows of equal size in `src` (a block-quantized tensor's rows: its
// blocks run along rows, so reordering whole rows keeps them intact), written to `dst` of the
// same size. Throws Error(InvalidArgument) when the rows do not split into 2 * n_head equal parts
// or the spans differ in size or overlap.
void unpermute_qk_rows(std::span<const std::byte> src, std::span<std::byte> dst, int64_t row_count, int64_t n_head);

}  // namespace kiln::llm
