// Loading a Llama-family model from a Hugging Face directory: config.json, then the checkpoint's
// tensors into the module tree with strict name and shape checks.
#pragma once

#include <memory>
#include <string>

#include "llm/checkpoint.h"
#include "llm/llama_model.h"
#include "llm/nn/module.h"

namespace kiln::llm {

// The checkpoint as load_state_dict reads it. Transformers' non-persistent RoPE tables
// ("...rotary_emb.inv_freq"), which older checkpoints saved, are not offered: Kiln recomputes them.
nn::StateSource checkpoint_state_source(const Checkpoint& checkpoint, const std::string& name);

// Reads `directory`'s config.json and weights, stored as the checkpoint's dtype, prepared with
// `options`, telling `progress` (when given) how far reading and preparing (quantizing) the
// tensors has come. Errors name the file and the tensor (see load_llama_config, Checkpoint::open
// and Module::load_state_dict).
std::unique_ptr<LlamaForCausalLM> load_llama(const std::string& directory, const nn::PrepareOptions& options,
                                             const nn::Progress& progress = {});

}  // namespace kiln::llm
