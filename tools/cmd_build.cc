// `kiln build MODEL.onnx -o MODEL.kiln`: optimizes the model and packs its weights for one CPU
// level, once, into an engine file that sessions load without optimizing or packing (as
// TensorRT's trtexec builds a plan). The optimizer's options (--level, --dim, --disable-pass) and
// --cpu-level are fixed into the engine.
#include <filesystem>
#include <iomanip>
#include <iostream>

#include "bench_stats.h"
#include "commands.h"
#include "engine/engine_file.h"
#include "kiln/session.h"
#include "optimizer_flags.h"

namespace kiln::cli {
namespace {

struct BuildArgs {
  std::string model;
  std::string output;
  std::string cpu_level;
  OptimizerFlags optimizer;
};

void build_onnx_engine(const BuildArgs& args) {
  SessionOptions options;
  options.cpu_level = args.cpu_level;
  options.optimized_model_path = args.output;
  args.optimizer.apply(options);
  const auto start = Clock::now();
  const Session session(args.model, options);
  const double ms = ms_since(start);
  if (args.optimizer.verbose) print_optimizer_report(session.optimizer_report(), std::cerr);
  const auto engine = engine::EngineFile::open(args.output);
  const ir::Model model = engine->model();
  std::cout << std::fixed << std::setprecision(1) << args.output << ": " << model.graph.nodes.size()
            << " nodes (level " << options.optimization_level << ", cpu level " << session.cpu_level() << "), "
            << static_cast<double>(engine->prepared_bytes()) / 1e6 << " MB of prepared weights, "
            << static_cast<double>(engine->size()) / 1e6 << " MB in all; built in " << ms << " ms\n";
}

}  // namespace

void add_build_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("build", "Build an engine file: the model optimized and its weights packed for one CPU level");
  auto args = std::make_shared<BuildArgs>();
  cmd->add_option("model", args->model, "ONNX model file")->required()->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", args->output, "the engine file to write (MODEL.kiln)")->required();
  cmd->add_option("--cpu-level", args->cpu_level,
                  "kernel instruction set to pack for (default: KILN_CPU_LEVEL, else the best this CPU has)")
      ->check(CLI::IsMember({"scalar", "avx2", "avx512"}));
  add_optimizer_flags(*cmd, args->optimizer);
  cmd->callback([args] {
    if (std::filesystem::path(args->output).extension() != ".kiln")
      throw Error(ErrorCode::InvalidArgument, "-o/--output must end in .kiln, got '" + args->output + "'");
    build_onnx_engine(*args);
  });
}

}  // namespace kiln::cli
