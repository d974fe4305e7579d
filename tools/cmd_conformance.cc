// `kiln conformance [DIR ...]`: runs ONNX backend test suites and prints a table per suite; the last
// line is always `conformance: P passed, F failed, U unsupported, N total` for scripts to read.
// `--expect FILE` fails (exit 1) when a case listed in FILE does not pass: the CTest regression guard.
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <set>

#include "commands.h"
#include "conformance.h"
#include "kiln/error.h"

namespace kiln::cli {
namespace {

namespace fs = std::filesystem;

struct ConformanceArgs {
  std::vector<std::string> dirs;
  std::string expect_file;
  std::string write_passing;
  std::string filter;
  double rtol = 1e-3;
  double atol = 1e-7;
  bool verbose = false;
  bool compare_levels = false;
};

const char* status_name(CaseStatus s) {
  switch (s) {
    case CaseStatus::Passed: return "passed";
    case CaseStatus::Failed: return "FAILED";
    case CaseStatus::Unsupported: return "unsupported";
  }
  return "?";
}

// A suite directory holds case directories; a case directory holds model.onnx.
std::vector<std::string> case_dirs(const fs::path& dir) {
  if (fs::exists(dir / "model.onnx")) return {dir.string()};
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && fs::exists(e.path() / "model.onnx")) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

int run_conformance(const ConformanceArgs& args) {
  std::vector<std::string> dirs = args.dirs;
  if (dirs.empty())
    for (const char* suite : kDefaultSuites) dirs.push_back((fs::path(kDefaultSuiteRoot) / suite).string());
  std::vector<CaseResult> results;
  std::cout << std::left << std::setw(22) << "suite" << std::right << std::setw(8) << "passed" << std::setw(8) << "failed"
            << std::setw(13) << "unsupported" << std::setw(7) << "total\n";
  int totals[3] = {0, 0, 0};
  for (const auto& dir : dirs) {
    if (!fs::is_directory(dir)) throw Error(ErrorCode::Io, "conformance directory '" + dir + "' does not exist");
    int counts[3] = {0, 0, 0};
    for (const auto& c : case_dirs(dir)) {
      if (!args.filter.empty() && c.find(args.filter) == std::string::npos) continue;
      CaseResult r = run_case(c, args.rtol, args.atol, args.compare_levels);
      if (args.verbose && r.status != CaseStatus::Passed)
        std::cerr << status_name(r.status) << " " << r.suite << "/" << r.name << ": " << r.reason << "\n";
      ++counts[static_cast<int>(r.status)];
      results.push_back(std::move(r));
    }
    const int total = counts[0] + counts[1] + counts[2];
    std::cout << std::left << std::setw(22) << fs::path(dir).filename().string() << std::right << std::setw(8)
              << counts[0] << std::setw(8) << counts[1] << std::setw(13) << counts[2] << std::setw(6) << total << "\n";
    for (int i = 0; i < 3; ++i) totals[i] += counts[i];
  }

  int status = 0;
  if (!args.write_passing.empty()) {
    std::ofstream out(args.write_passing);
    for (const auto& r : results)
      if (r.status == CaseStatus::Passed) out << r.suite << "/" << r.name << "\n";
  }
  if (!args.expect_file.empty()) {
    std::ifstream in(args.expect_file);
    if (!in) throw Error(ErrorCode::Io, "cannot open '" + args.expect_file + "'");
    std::map<std::string, const CaseResult*> by_name;
    for (const auto& r : results) by_name[r.suite + "/" + r.name] = &r;
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] == '#') continue;
      auto it = by_name.find(line);
      if (it == by_name.end()) {
        std::cout << "REGRESSION " << line << ": case was not run\n";
        status = 1;
      } else if (it->second->status != CaseStatus::Passed) {
        std::cout << "REGRESSION " << line << ": " << status_name(it->second->status) << ": " << it->second->reason << "\n";
        status = 1;
      }
    }
  }
  std::cout << "conformance: " << totals[0] << " passed, " << totals[1] << " failed, " << totals[2] << " unsupported, "
            << (totals[0] + totals[1] + totals[2]) << " total\n";
  return status;
}

}  // namespace

void add_conformance_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("conformance", "Run ONNX backend test suites (default: the four libonnx-testdata suites)");
  auto args = std::make_shared<ConformanceArgs>();
  cmd->add_option("dirs", args->dirs, "suite or case directories");
  cmd->add_option("--expect", args->expect_file, "file listing suite/case names that must pass; exit 1 if one does not");
  cmd->add_option("--write-passing", args->write_passing, "write the names of passing cases to this file");
  cmd->add_option("--filter", args->filter, "only run cases whose path contains this text");
  cmd->add_option("--rtol", args->rtol, "relative tolerance");
  cmd->add_option("--atol", args->atol, "absolute tolerance");
  cmd->add_flag("--compare-levels", args->compare_levels,
                "also run each case unoptimized (level 0): a case fails when the two levels' outputs differ");
  cmd->add_flag("-v,--verbose", args->verbose, "print why each case failed or is unsupported (to stderr)");
  cmd->callback([args] {
    if (const int status = run_conformance(*args)) throw CLI::RuntimeError(status);
  });
}

}  // namespace kiln::cli
