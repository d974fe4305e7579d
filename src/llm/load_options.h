// LoadOptions (kiln/llm.h) as the module tree and the KV cache take them: the one place that
// reads their strings, for the LLM facade and the CLI commands that load a model themselves.
#pragma once

#include <memory>
#include <string>

#include "kernels/cpu/paged_kv.h"
#include "kiln/llm.h"
#include "llm/llama_model.h"
#include "llm/nn/module.h"

namespace kiln::llm {

// The weight format and CPU level to load `model_path` with: an LLM engine's own where the options
// leave them unset (an engine was prepared for one level and format, and asking for others is
// refused when it loads). Error(InvalidArgument) naming the field for a quant other than none,
// int8 and int4 or a negative group, and for a CPU level this CPU lacks.
nn::PrepareOptions prepare_options(const LoadOptions& options, const std::string& model_path);
// Error(InvalidArgument) for a name other than f32, f16 and int8.
kernels::KvDtype kv_dtype(const LoadOptions& options);
// load_llama with prepare_options(options).
std::unique_ptr<LlamaForCausalLM> load_model(const std::string& path, const LoadOptions& options,
                                             const LoadProgress& progress = {});

}  // namespace kiln::llm
