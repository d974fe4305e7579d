// Loading a Llama-family model from a Hugging Face directory (config.json, then the checkpoint's
// tensors) or a GGUF file into the module tree, with strict name and shape checks.
#pragma once

#include <memory>
#include <string>

#include "llm/checkpoint.h"
#include "llm/gguf.h"
#include "llm/llama_model.h"
#include "llm/model_files.h"
#include "llm/nn/module.h"

namespace kiln::llm {

// The checkpoint as load_state_dict reads it, describing its tensors (so the parameters are
// deferred to it, and the source shares the checkpoint). Transformers' non-persistent RoPE tables
// ("...rotary_emb.inv_freq"), which older checkpoints saved, are not offered: Kiln recomputes them.
nn::StateSource checkpoint_state_source(std::shared_ptr<const Checkpoint> checkpoint, const std::string& name);

// The weight format that computes with a GGUF's linear layers as they are stored: Q8_0 as Int8
// and Q4_0 as Int4, both in groups of 32, F32/F16/BF16 as Float. Decided by the layers' weights
// (blk.*): when they mix types, the most precise one (the others are converted to it).
nn::WeightQuant gguf_stored_quant(const GgufFile& file);

// `path` is a Hugging Face directory (config.json, *.safetensors) or a GGUF file. The parameters
// are the checkpoint's dtype (a GGUF's block types as float32), deferred to the mapped file (see
// nn::Parameter: the model holds its prepared form only), prepared with `options`, telling
// `progress` (when given) how far reading and preparing (quantizing) the tensors has come. For a
// GGUF, a Float `options.quant` means gguf_stored_quant, so Q8_0 and Q4_0 compute as loaded.
// Errors name the file and the tensor (see load_llama_config, Checkpoint::open, GgufFile::open,
// llama_config_from_gguf and Module::load_state_dict).
//
// `path` may also be an LLM engine file (llm_engine.h), which is loaded with its prepared weights
// (load_llm_engine). `weights` is where the modules' prepared weights come from (see
// Module::prepare); build_llm_engine records them through it.
std::unique_ptr<LlamaForCausalLM> load_llama(const std::string& path, const nn::PrepareOptions& options,
                                             const nn::Progress& progress = {}, WeightStore* weights = nullptr);

// The model's config: its config.json, else its GGUF metadata (llama_config_from_gguf).
LlamaConfig llama_config_of(const ModelFiles& files);

}  // namespace kiln::llm
