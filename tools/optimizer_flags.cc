#include "optimizer_flags.h"

#include <iomanip>

#include "kiln/error.h"

namespace kiln::cli {

void OptimizerFlags::apply(SessionOptions& options) const {
  options.optimization_level = level;
  options.disabled_passes = disabled_passes;
  options.dim_overrides = dim_sizes();
}

std::map<std::string, int64_t> OptimizerFlags::dim_sizes() const {
  std::map<std::string, int64_t> sizes;
  for (const std::string& spec : dims) {
    const size_t eq = spec.find('=');
    size_t parsed = 0;
    int64_t size = 0;
    try {
      if (eq != std::string::npos && eq > 0) size = std::stoll(spec.substr(eq + 1), &parsed);
    } catch (const std::exception&) {
      parsed = 0;
    }
    if (eq == std::string::npos || eq == 0 || parsed == 0 || eq + 1 + parsed != spec.size())
      throw Error(ErrorCode::InvalidArgument, "--dim takes NAME=SIZE, got '" + spec + "'");
    sizes[spec.substr(0, eq)] = size;
  }
  return sizes;
}

void add_optimizer_flags(CLI::App& cmd, OptimizerFlags& flags) {
  cmd.add_option("-O,--level", flags.level, "optimization level: 0 none, 1 basic, 2 extended, 3 layout")
      ->capture_default_str()
      ->check(CLI::Range(0, 3));
  cmd.add_option("--disable-pass", flags.disabled_passes, "an optimizer pass not to run, by name (repeatable; `kiln passes` lists them)");
  cmd.add_option("--dim", flags.dims, "a size for a symbolic input dim, NAME=SIZE (repeatable), e.g. --dim batch=1");
  cmd.add_flag("-v,--verbose", flags.verbose, "print what each optimizer pass did (to stderr)");
}

void print_optimizer_report(const std::vector<PassReport>& report, std::ostream& out) {
  out << "level  pass                             rounds  changes       ms\n";
  int64_t changes = 0;
  double ms = 0;
  for (const PassReport& p : report) {
    out << std::setw(5) << p.level << "  " << std::left << std::setw(32) << p.name << std::right << std::setw(7)
        << p.rounds << std::setw(9) << p.changes << std::setw(9) << std::fixed << std::setprecision(2)
        << p.milliseconds << "\n";
    changes += p.changes;
    ms += p.milliseconds;
  }
  out << "optimizer: " << report.size() << " passes, " << changes << " changes, " << std::fixed << std::setprecision(2)
      << ms << " ms\n";
}

void print_optimizer_warnings(const std::vector<std::string>& warnings, std::ostream& out) {
  for (const std::string& warning : warnings) out << "warning: " << warning << "\n";
}

}  // namespace kiln::cli
