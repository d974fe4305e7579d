#include <iostream>

#include "commands.h"
#include "kiln/error.h"

int main(int argc, char** argv) {
  CLI::App app{"kiln: optimize and run ONNX models on the CPU"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "kiln 0.1.0");
  kiln::cli::add_info_command(app);
  kiln::cli::add_run_command(app);
  kiln::cli::add_conformance_command(app);
  kiln::cli::add_ops_command(app);
  kiln::cli::add_bench_command(app);
  kiln::cli::add_passes_command(app);
  kiln::cli::add_optimize_command(app);
  kiln::cli::add_bench_llm_command(app);
  kiln::cli::add_generate_command(app);
  kiln::cli::add_chat_command(app);
  kiln::cli::add_perplexity_command(app);
  kiln::cli::add_build_command(app);
  kiln::cli::add_profile_command(app);
  kiln::cli::add_quantize_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const kiln::Error& e) {
    std::cerr << "kiln: error (" << kiln::error_code_name(e.code()) << "): " << e.what() << "\n";
    return 1;
  }
  return 0;
}
