// `--profile FILE.json` for the commands that run models (run, bench, generate, chat): the session
// or LLM records a Chrome trace (SessionOptions / LoadOptions::enable_profiling) and writes it
// there when the command is done.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "kiln/llm.h"
#include "kiln/session.h"

namespace kiln::cli {

CLI::Option* add_profile_flag(CLI::App& cmd, std::string& path);
void apply_profile_flag(const std::string& path, SessionOptions& options);
// Writes the trace when profiling was asked for, and says where on stderr.
void finish_profile(const std::string& path, Session& session);
void finish_profile(const std::string& path, llm::LLM& llm);

}  // namespace kiln::cli
