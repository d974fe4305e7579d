// The optimizer options `kiln run`, `kiln bench` and `kiln optimize` share: `-O,--level N`,
// `--disable-pass NAME` (repeatable), `--dim NAME=SIZE` (repeatable: a size for a symbolic input
// dim) and `-v,--verbose`, which prints what each pass did to stderr.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "kiln/session.h"

namespace kiln::cli {

struct OptimizerFlags {
  int level = 3;
  std::vector<std::string> disabled_passes;
  std::vector<std::string> dims;  // --dim NAME=SIZE
  bool verbose = false;

  void apply(SessionOptions& options) const;
  // The --dim specs by name; throws InvalidArgument naming a malformed one.
  std::map<std::string, int64_t> dim_sizes() const;
};

void add_optimizer_flags(CLI::App& cmd, OptimizerFlags& flags);

// One line per pass: level, name, rounds, changes and time; then the totals.
void print_optimizer_report(const std::vector<PassReport>& report, std::ostream& out);
// "warning: ..." per Session::optimizer_warnings message.
void print_optimizer_warnings(const std::vector<std::string>& warnings, std::ostream& out);

}  // namespace kiln::cli
