// `kiln run MODEL [--input NAME=FILE.npy ...] [--output-dir DIR]`: runs a model once on .npy inputs
// (random ones of the right shape when none are given) and prints or saves its outputs.
// `--labels FILE.npy` treats the first output as class scores and reports accuracy against them.
#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>

#include "commands.h"
#include "core/npy.h"
#include "feeds.h"
#include "optimizer_flags.h"
#include "profile_flag.h"
#include "kiln/session.h"

namespace kiln::cli {
namespace {

struct RunArgs {
  std::string model;
  std::vector<std::string> inputs;
  std::string output_dir;
  std::string labels;
  int threads = 1;
  int64_t free_dim = 1;
  OptimizerFlags optimizer;
  std::string profile;
};

void print_summary(const std::string& name, const Tensor& t) {
  std::cout << name << ": " << dtype_name(t.dtype()) << " " << shape_to_string(t.shape());
  const int64_t shown = std::min<int64_t>(t.numel(), 8);
  std::cout << " [";
  for (int64_t i = 0; i < shown; ++i) std::cout << (i ? ", " : "") << std::setprecision(6) << t.value_as_double(i);
  std::cout << (t.numel() > shown ? ", ...]" : "]") << "\n";
}

// Treats `scores` as [rows, classes] and prints each row's argmax beside its label.
void report_classification(const Tensor& scores, const Tensor& labels) {
  if (scores.rank() < 1) throw Error(ErrorCode::InvalidArgument, "--labels needs an output with a class axis");
  const int64_t classes = scores.shape().back();
  const int64_t rows = classes ? scores.numel() / classes : 0;
  if (labels.numel() != rows)
    throw Error(ErrorCode::InvalidArgument, "--labels has " + std::to_string(labels.numel()) + " labels for " +
                                                std::to_string(rows) + " rows of scores");
  int64_t correct = 0;
  std::cout << "sample  predicted  true\n";
  for (int64_t r = 0; r < rows; ++r) {
    int64_t best = 0;
    for (int64_t c = 1; c < classes; ++c)
      if (scores.value_as_double(r * classes + c) > scores.value_as_double(r * classes + best)) best = c;
    const int64_t truth = labels.value_as_int64(r);
    correct += best == truth;
    std::cout << std::setw(6) << r << std::setw(11) << best << std::setw(6) << truth << (best == truth ? "" : "  <- wrong")
              << "\n";
  }
  std::cout << "accuracy: " << correct << "/" << rows << " = " << std::fixed << std::setprecision(2)
            << (rows ? 100.0 * static_cast<double>(correct) / static_cast<double>(rows) : 0.0) << "%\n";
}

void run_model(const RunArgs& args) {
  SessionOptions options;
  options.threads = args.threads;
  args.optimizer.apply(options);
  apply_profile_flag(args.profile, options);
  Session session(args.model, options);
  if (args.optimizer.verbose) {
    print_optimizer_report(session.optimizer_report(), std::cerr);
    print_optimizer_warnings(session.optimizer_warnings(), std::cerr);
  }
  const auto outputs = session.run(make_feeds(session, args.inputs, args.free_dim));
  finish_profile(args.profile, session);
  if (!args.output_dir.empty()) std::filesystem::create_directories(args.output_dir);
  for (const auto& info : session.outputs()) {
    const Tensor& t = outputs.at(info.name);
    print_summary(info.name, t);
    if (!args.output_dir.empty()) {
      std::string file = info.name;
      std::replace_if(file.begin(), file.end(), [](char c) { return c == '/' || c == '\\' || c == ':'; }, '_');
      write_npy((std::filesystem::path(args.output_dir) / (file + ".npy")).string(), t);
    }
  }
  if (!args.labels.empty()) report_classification(outputs.at(session.outputs().front().name), read_npy(args.labels));
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Run a model once on .npy inputs (random inputs when none are given)");
  auto args = std::make_shared<RunArgs>();
  cmd->add_option("model", args->model, "ONNX model or engine file (.kiln)")->required()->check(CLI::ExistingFile);
  add_feed_options(*cmd, args->inputs, args->free_dim);
  cmd->add_option("-o,--output-dir", args->output_dir, "write each output to DIR/NAME.npy");
  cmd->add_option("--labels", args->labels,
                  "FILE.npy of true class labels: print the first output's argmax per row beside them, and the accuracy");
  cmd->add_option("-t,--threads", args->threads, "threads to run with (0: one per core)")->check(CLI::NonNegativeNumber);
  add_optimizer_flags(*cmd, args->optimizer);
  add_profile_flag(*cmd, args->profile);
  cmd->callback([args] { run_model(*args); });
}

}  // namespace kiln::cli
