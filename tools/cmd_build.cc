// `kiln build MODEL -o MODEL.kiln`: prepares a model once, for one CPU level, into an engine file
// that loads without optimizing, packing or quantizing (as TensorRT's trtexec builds a plan and
// TensorRT-LLM an engine from Hugging Face weights).
//   ONNX model: optimized (--level, --dim, --disable-pass) and its weights packed.
//   LLM (a Hugging Face directory or a GGUF file): its linear layers packed as --quant asks, with
//   its config, tokenizer and chat template.
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>

#include "bench_stats.h"
#include "commands.h"
#include "engine/engine_file.h"
#include "kiln/session.h"
#include "llm/llm_engine.h"
#include "llm/load_options.h"
#include "llm_model_flags.h"
#include "optimizer_flags.h"
#include "progress_bar.h"

namespace kiln::cli {
namespace {

struct BuildArgs {
  std::string model;
  std::string output;
  OptimizerFlags optimizer;
  llm::LoadOptions weights;  // --cpu-level for both kinds; --quant and --group for LLMs
};

void print_built(const std::string& path, const std::string& what, double ms) {
  const auto engine = engine::EngineFile::open(path);
  std::cout << std::fixed << std::setprecision(1) << path << ": " << what << ", cpu level "
            << cpu_level_name(engine->build().cpu_level) << ", " << static_cast<double>(engine->prepared_bytes()) / 1e6
            << " MB of prepared weights, " << static_cast<double>(engine->size()) / 1e6 << " MB in all; built in "
            << ms << " ms\n";
}

void build_onnx_engine(const BuildArgs& args) {
  SessionOptions options;
  options.cpu_level = args.weights.cpu_level;
  options.optimized_model_path = args.output;
  args.optimizer.apply(options);
  const auto start = Clock::now();
  const Session session(args.model, options);
  const double ms = ms_since(start);
  if (args.optimizer.verbose) {
    print_optimizer_report(session.optimizer_report(), std::cerr);
    print_optimizer_warnings(session.optimizer_warnings(), std::cerr);
  }
  const size_t nodes = engine::EngineFile::open(args.output)->model().graph.nodes.size();
  print_built(args.output, std::to_string(nodes) + " nodes at optimization level " + std::to_string(options.optimization_level), ms);
}

void build_llm(const BuildArgs& args) {
  const llm::nn::PrepareOptions options = llm::prepare_options(args.weights, args.model);
  const auto start = Clock::now();
  llm::build_llm_engine(args.model, args.output, options, terminal_progress_bar());
  const double ms = ms_since(start);
  // A GGUF's quantized layers are built as they are stored: the engine says which format that was.
  const llm::nn::WeightQuant built = llm::llm_engine_options(args.output).quant;
  print_built(args.output, std::string("LLM, weights ") + llm::nn::weight_quant_name(built.kind), ms);
}

// A directory is a Hugging Face model; a file starting "GGUF" a GGUF one; anything else ONNX.
bool is_llm_source(const std::string& path) {
  if (std::filesystem::is_directory(path)) return true;
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::string_view(magic, 4) == "GGUF";
}

}  // namespace

void add_build_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("build", "Build an engine file: a model prepared once for one CPU level, loaded as it is");
  auto args = std::make_shared<BuildArgs>();
  cmd->add_option("model", args->model, "ONNX model, Hugging Face model directory, or GGUF file")
      ->required()
      ->check(CLI::ExistingPath);
  cmd->add_option("-o,--output", args->output, "the engine file to write (MODEL.kiln)")->required();
  add_llm_weight_flags(*cmd, args->weights);
  add_optimizer_flags(*cmd, args->optimizer);
  cmd->footer("ONNX models take the optimizer's options (-O, --dim, --disable-pass); LLMs take --quant and --group.");
  cmd->callback([cmd, args] {
    if (std::filesystem::path(args->output).extension() != ".kiln")
      throw Error(ErrorCode::InvalidArgument, "-o/--output must end in .kiln, got '" + args->output + "'");
    const bool llm = is_llm_source(args->model);
    for (const char* flag : llm ? std::vector<const char*>{"--level", "--dim", "--disable-pass"}
                                : std::vector<const char*>{"--quant", "--group"})
      if (cmd->count(flag))
        throw Error(ErrorCode::InvalidArgument, std::string(flag) + " applies to " + (llm ? "ONNX models" : "LLMs") +
                                                    ", and " + args->model + " is " + (llm ? "an LLM" : "an ONNX model"));
    llm ? build_llm(*args) : build_onnx_engine(*args);
  });
}

}  // namespace kiln::cli
