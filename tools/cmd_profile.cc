// `kiln profile TRACE.json`: summarizes a Chrome trace written by `kiln run|bench --profile`,
// SessionOptions::enable_profiling or `kiln generate --profile`: the runs' time, how much of it
// the nodes account for, time by op type and the slowest nodes.
#include <algorithm>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "kiln/error.h"

namespace kiln::cli {
namespace {

struct ProfileArgs {
  std::string trace;
  int top = 10;
};

struct Totals {
  int64_t count = 0;
  double us = 0;
  std::string op;
};

// Events that time a whole run (ONNX) or a forward step (LLM); nodes and layers lie inside them.
bool is_run(const std::string& name) { return name == "model_run" || name == "prefill" || name == "decode"; }

void print_table(const char* title, const char* key_title, const std::vector<std::pair<std::string, Totals>>& rows,
                 double node_us, bool with_op) {
  std::cout << "\n" << title << ":\n"
            << std::left << std::setw(40) << key_title << (with_op ? "  op type             " : "") << std::right
            << std::setw(8) << "count" << std::setw(12) << "total ms" << std::setw(8) << "share" << std::setw(11)
            << "mean us\n";
  for (const auto& [key, t] : rows) {
    std::cout << std::left << std::setw(40) << key;
    if (with_op) std::cout << "  " << std::setw(20) << t.op;
    std::cout << std::right << std::fixed << std::setw(8) << t.count << std::setw(12) << std::setprecision(3)
              << t.us / 1e3 << std::setw(7) << std::setprecision(1) << (node_us > 0 ? 100.0 * t.us / node_us : 0.0)
              << "%" << std::setw(10) << std::setprecision(1) << t.us / static_cast<double>(t.count) << "\n";
  }
}

std::vector<std::pair<std::string, Totals>> sorted(const std::map<std::string, Totals>& totals, size_t limit) {
  std::vector<std::pair<std::string, Totals>> rows(totals.begin(), totals.end());
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.us > b.second.us; });
  if (rows.size() > limit) rows.resize(limit);
  return rows;
}

void summarize(const ProfileArgs& args) {
  std::ifstream in(args.trace);
  if (!in) throw Error(ErrorCode::Io, "cannot read '" + args.trace + "'");
  nlohmann::json trace;
  try {
    in >> trace;
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::InvalidArgument, args.trace + " is not JSON: " + e.what());
  }
  if (!trace.is_array()) throw Error(ErrorCode::InvalidArgument, args.trace + " is not a Chrome trace (a JSON array of events)");
  double run_us = 0, node_us = 0, creation_us = 0;
  int64_t runs = 0;
  std::map<std::string, Totals> by_op, by_node, creation, by_run;
  for (const auto& e : trace) {
    if (!e.is_object() || !e.contains("name") || !e.contains("dur") || !e["dur"].is_number()) continue;
    const std::string name = e["name"].is_string() ? e["name"].get<std::string>() : "";
    const std::string category = e.value("cat", "");
    const double dur = e["dur"].get<double>();
    if (category == "Session" && is_run(name)) {
      run_us += dur;
      ++runs;
      ++by_run[name].count;
      by_run[name].us += dur;
    } else if (category == "Node") {
      const std::string op =
          e.contains("args") && e["args"].is_object() ? e["args"].value("op_name", std::string("?")) : std::string("?");
      node_us += dur;
      Totals& t = by_op[op];
      ++t.count;
      t.us += dur;
      // ONNX Runtime's node events are named <node>_kernel_time.
      const std::string suffix = "_kernel_time";
      const std::string node = name.ends_with(suffix) ? name.substr(0, name.size() - suffix.size()) : name;
      Totals& n = by_node[node];
      ++n.count;
      n.us += dur;
      n.op = op;
    } else if (category == "Session" || category == "Optimizer") {
      const std::string phase = category == "Optimizer" ? "optimizer passes"
                                : name.size() > 8 && name.ends_with("_prepare") ? "kernel preparation"
                                                                                : name;
      creation_us += dur;
      Totals& t = creation[phase];
      ++t.count;
      t.us += dur;
    }
  }
  std::cout << std::fixed << std::setprecision(3) << "trace: " << args.trace << "\n";
  if (!creation.empty()) {
    std::cout << "session creation: " << creation_us / 1e3 << " ms\n";
    for (const auto& [phase, t] : sorted(creation, creation.size()))
      std::cout << "  " << std::left << std::setw(28) << phase << std::right << std::setw(12) << t.us / 1e3 << " ms ("
                << t.count << " events)\n";
  }
  std::cout << "runs: " << runs << ", " << run_us / 1e3 << " ms";
  for (const auto& [name, t] : by_run)
    std::cout << (by_run.size() > 1 ? "; " + name + " " + std::to_string(t.count) : std::string()) << " (mean "
              << t.us / 1e3 / static_cast<double>(t.count) << " ms)";
  std::cout << "\nnodes: " << node_us / 1e3 << " ms";
  if (run_us > 0) std::cout << std::setprecision(1) << " = " << 100.0 * node_us / run_us << "% of the runs";
  std::cout << "\n";
  if (by_op.empty()) return;
  print_table("by op type", "op type", sorted(by_op, by_op.size()), node_us, false);
  print_table("slowest nodes", "node", sorted(by_node, static_cast<size_t>(args.top)), node_us, true);
}

}  // namespace

void add_profile_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("profile", "Summarize a profile (Chrome trace) by op type and slowest nodes");
  auto args = std::make_shared<ProfileArgs>();
  cmd->add_option("trace", args->trace, "the trace JSON (kiln run|bench|generate --profile FILE)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--top", args->top, "slowest nodes to list (default 10)")->check(CLI::PositiveNumber);
  cmd->callback([args] { summarize(*args); });
}

}  // namespace kiln::cli
