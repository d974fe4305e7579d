// `kiln optimize MODEL -o OUT.onnx [--level N]`: runs the optimizer's passes and writes the result
// as ONNX (fused ops in the `kiln` domain), for inspection in Netron or loading again.
#include <iostream>

#include "commands.h"
#include "core/cpu_features.h"
#include "ir/graph_edit.h"
#include "onnx/exporter.h"
#include "onnx/importer.h"
#include "optimizer_flags.h"
#include "passes/pass_manager.h"

namespace kiln::cli {
namespace {

struct OptimizeArgs {
  std::string model, output, cpu_level;
  OptimizerFlags optimizer;
};

void optimize_model(const OptimizeArgs& args) {
  ir::Model model = onnx_io::load_model(args.model);
  const size_t before = model.graph.nodes.size();
  const CpuLevel level = requested_cpu_level(args.cpu_level, "--cpu-level");
  ir::set_symbolic_dims(model.graph, args.optimizer.dim_sizes());
  const auto report = passes::optimize(model, {args.optimizer.level, level, args.optimizer.disabled_passes});
  if (args.optimizer.verbose) print_optimizer_report(report, std::cerr);
  onnx_io::save_model(model, args.output);
  std::cout << args.model << ": " << before << " nodes -> " << args.output << ": " << model.graph.nodes.size()
            << " nodes (level " << args.optimizer.level << ", " << cpu_level_name(level) << ")\n";
}

}  // namespace

void add_optimize_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("optimize", "Optimize a model and write it as ONNX (fused ops in the kiln domain)");
  auto args = std::make_shared<OptimizeArgs>();
  cmd->add_option("model", args->model, "ONNX model file")->required()->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", args->output, "where to write the optimized model")->required();
  cmd->add_option("--cpu-level", args->cpu_level,
                  "the instruction set level 3 lays channels out for (default: KILN_CPU_LEVEL, else the best this CPU has)")
      ->check(CLI::IsMember({"scalar", "avx2", "avx512"}));
  add_optimizer_flags(*cmd, args->optimizer);
  cmd->callback([args] { optimize_model(*args); });
}

}  // namespace kiln::cli
