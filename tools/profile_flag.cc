#include "profile_flag.h"

#include <iostream>

namespace kiln::cli {

CLI::Option* add_profile_flag(CLI::App& cmd, std::string& path) {
  return cmd.add_option("--profile", path,
                 "record a Chrome trace (chrome://tracing, Perfetto) of session creation and every node of every run "
                 "into FILE.json; `kiln profile FILE.json` summarizes it");
}

void apply_profile_flag(const std::string& path, SessionOptions& options) { options.enable_profiling = !path.empty(); }

void finish_profile(const std::string& path, Session& session) {
  if (path.empty()) return;
  session.end_profiling(path);
  std::cerr << "profile: " << path << "\n";
}

void finish_profile(const std::string& path, llm::LLM& llm) {
  if (path.empty()) return;
  llm.end_profiling(path);
  std::cerr << "profile: " << path << "\n";
}

}  // namespace kiln::cli
