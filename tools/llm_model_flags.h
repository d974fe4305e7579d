// What the LLM commands (bench-llm, generate, chat, perplexity) share: the weight options
// `--quant none|int8|int4`, `--group N` and `--cpu-level`, finding the model directory (the
// shipped models/kjv when none is named), and loading it with a progress bar on a terminal.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "kiln/llm.h"
#include "llm/llama_model.h"

namespace kiln::cli {

// --quant, --group and --cpu-level into those fields of `options`.
void add_llm_weight_flags(CLI::App& cmd, llm::LoadOptions& options);

// `model` when given, else the shipped models/kjv: <executable dir>/../models/kjv or
// <executable dir>/models/kjv. Error(Io) naming both places when neither holds a config.json.
std::string resolve_model_dir(const std::string& model);

// The model alone (llm::load_model), drawing a progress bar on stderr when it is a terminal.
std::unique_ptr<llm::LlamaForCausalLM> load_llm(const std::string& model_dir, const llm::LoadOptions& options);

}  // namespace kiln::cli
