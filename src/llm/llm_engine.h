// LLM engine files (`kiln build MODEL_DIR|MODEL.gguf --quant int8|int4 -o MODEL.kiln`), as
// TensorRT-LLM builds engines from Hugging Face weights: the engine format of engine/ holding
// every module's prepared weights (packed panels, quantized codes, norms' scales, the embedding
// table) as built for one CPU level and weight format, the parameters' shapes and dtypes, and the
// files the runtime reads beside the weights (config, tokenizer, tokenizer_config with its chat
// template, generation_config; a GGUF's metadata). Loading maps the file and prepares nothing:
// load_llama, Tokenizer::load, load_chat_template and ModelFiles::open take an engine path as
// they take a model directory.
#pragma once

#include <memory>
#include <string>

#include "llm/llama_model.h"
#include "llm/model_files.h"
#include "llm/nn/module.h"

namespace kiln::llm {

// Loads the model at `source` (a directory or GGUF, as load_llama) prepared with `options` and
// writes it as an engine to `engine_path`. Errors are load_llama's and write_engine's.
void build_llm_engine(const std::string& source, const std::string& engine_path, const nn::PrepareOptions& options,
                      const nn::Progress& progress = {});

// Whether `path` is an engine file holding an LLM (not an ONNX model).
bool is_llm_engine(const std::string& path);

// The options an engine was built with: its CPU level and weight format.
nn::PrepareOptions llm_engine_options(const std::string& path);

// The model of an LLM engine. `options` must be the engine's (llm_engine_options), except that a
// Float quant means "as built", as it means "as stored" for a GGUF; another CPU level or weight
// format is an Error(InvalidArgument) saying to rebuild. The engine's damage is reported as
// engine/engine_file.h reports it.
std::unique_ptr<LlamaForCausalLM> load_llm_engine(const std::string& path, const nn::PrepareOptions& options,
                                                  const nn::Progress& progress = {});

// The engine's stored files (ModelFiles::open calls this for an engine path).
ModelFiles llm_engine_files(const std::string& path);

}  // namespace kiln::llm
