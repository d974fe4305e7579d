// What `kiln generate` and `kiln chat` share: the model, thread, context and sampling options,
// opening the model they name, and the one-line speed summary printed after a generation.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "kiln/llm.h"

namespace kiln::cli {

struct LlmGenerationFlags {
  std::string model;  // empty: the shipped model
  llm::LoadOptions load;
  llm::GenerateOptions request;
  std::string profile;  // --profile: where to write the trace
};

void add_llm_generation_flags(CLI::App& cmd, LlmGenerationFlags& flags);

// The model the flags name (the shipped one when none), with a progress bar on a terminal.
llm::LLM open_llm(const LlmGenerationFlags& flags);

// "prompt: N tokens, X t/s | generated: M tokens, Y t/s | stop: reason" on stderr.
void print_generation_summary(const llm::GenerationStats& stats);

}  // namespace kiln::cli
