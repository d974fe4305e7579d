// Each `kiln` subcommand registers itself on the CLI11 app; main() only wires them up.
#pragma once

#include <CLI/CLI.hpp>

namespace kiln::cli {

void add_info_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_conformance_command(CLI::App& app);
void add_ops_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_passes_command(CLI::App& app);
void add_optimize_command(CLI::App& app);
void add_bench_llm_command(CLI::App& app);
void add_generate_command(CLI::App& app);
void add_chat_command(CLI::App& app);
void add_perplexity_command(CLI::App& app);
void add_build_command(CLI::App& app);
void add_profile_command(CLI::App& app);
void add_quantize_command(CLI::App& app);

}  // namespace kiln::cli
