// `kiln run MODEL [--input NAME=FILE.npy ...] [--output-dir DIR]`: runs a model once on .npy inputs
// (random ones of the right shape when none are given) and prints or saves its outputs.
// `--labels FILE.npy` treats the first output as class scores and reports accuracy against them.
#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <random>

#include "commands.h"
#include "core/npy.h"
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
};

Tensor random_input(const TensorInfo& info, int64_t free_dim, std::mt19937& rng) {
  Shape shape;
  for (int64_t d : info.shape.value_or(Shape{})) shape.push_back(d < 0 ? free_dim : d);
  Tensor t(info.dtype, shape);
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  std::uniform_int_distribution<int> small(0, 9);
  switch (info.dtype) {
    case DType::Float32: std::generate_n(t.data<float>(), t.numel(), [&] { return uniform(rng); }); break;
    case DType::Float64: std::generate_n(t.data<double>(), t.numel(), [&] { return uniform(rng); }); break;
    case DType::Int64: std::generate_n(t.data<int64_t>(), t.numel(), [&] { return small(rng); }); break;
    case DType::Int32: std::generate_n(t.data<int32_t>(), t.numel(), [&] { return small(rng); }); break;
    case DType::Bool: std::generate_n(t.data<bool>(), t.numel(), [&] { return small(rng) % 2 == 0; }); break;
    default:
      throw Error(ErrorCode::InvalidArgument, "cannot make a random input of dtype " + std::string(dtype_name(info.dtype)) +
                                                  " for '" + info.name + "'; give one with --input");
  }
  return t;
}

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
  Session session(args.model, options);
  std::map<std::string, Tensor> feeds;
  for (const auto& spec : args.inputs) {
    const auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error(ErrorCode::InvalidArgument, "--input '" + spec + "' must look like NAME=FILE.npy");
    feeds[spec.substr(0, eq)] = read_npy(spec.substr(eq + 1));
  }
  // With any --input given, the session itself reports unknown and missing names.
  std::mt19937 rng(42);
  if (args.inputs.empty())
    for (const auto& info : session.inputs()) feeds[info.name] = random_input(info, args.free_dim, rng);
  const auto outputs = session.run(feeds);
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
  cmd->add_option("model", args->model, "ONNX model file")->required()->check(CLI::ExistingFile);
  cmd->add_option("-i,--input", args->inputs, "NAME=FILE.npy for a model input (repeatable)");
  cmd->add_option("-o,--output-dir", args->output_dir, "write each output to DIR/NAME.npy");
  cmd->add_option("--labels", args->labels,
                  "FILE.npy of true class labels: print the first output's argmax per row beside them, and the accuracy");
  cmd->add_option("-t,--threads", args->threads, "threads to run with (0: one per core)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--free-dim", args->free_dim, "size given to unknown dims of random inputs")->check(CLI::PositiveNumber);
  cmd->callback([args] { run_model(*args); });
}

}  // namespace kiln::cli
