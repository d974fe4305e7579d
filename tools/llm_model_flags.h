// What the LLM commands (bench-llm, generate, chat, perplexity) share: the weight options
// `--quant none|int8|int4`, `--group N` and `--cpu-level`, finding the model directory (the
// shipped models/kjv when none is named), and loading it with a progress bar on a terminal.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "llm/llama_model.h"
#include "llm/nn/module.h"

namespace kiln::cli {

struct LlmWeightFlags {
  std::string cpu_level;  // empty: the best this CPU has
  std::string quant = "none";
  int64_t group = 0;  // WeightQuant's: each kind's default

  // The options to load `model` with; Error(InvalidArgument) for a cpu level this CPU lacks.
  llm::nn::PrepareOptions prepare_options(const std::string& model) const;
};

void add_llm_weight_flags(CLI::App& cmd, LlmWeightFlags& flags);

// `model` when given, else the shipped models/kjv: <executable dir>/../models/kjv or
// <executable dir>/models/kjv. Error(Io) naming both places when neither holds a config.json.
std::string resolve_model_dir(const std::string& model);

// load_llama with `flags`, drawing a progress bar on stderr when it is a terminal.
std::unique_ptr<llm::LlamaForCausalLM> load_llm(const std::string& model_dir, const LlmWeightFlags& flags);

}  // namespace kiln::cli
