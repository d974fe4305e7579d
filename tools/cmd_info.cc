// `kiln info MODEL`: inputs, outputs, opsets, op histogram and parameter count; for an engine file
// (.kiln) also how it was built and what it holds, its graph being the optimized one. With `--plan`, the
// optimized session's memory plan for the given (or random) inputs: planned peak, the memory
// without reuse, and the largest buffers with the steps they live through.
#include <algorithm>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include "commands.h"
#include "engine/engine_file.h"
#include "engine/engine_format.h"
#include "feeds.h"
#include "kiln/session.h"
#include "onnx/importer.h"
#include "optimizer_flags.h"

namespace kiln::cli {
namespace {

void print_values(const char* title, const std::vector<ir::Value>& values) {
  std::cout << title << ":\n";
  for (const auto& v : values)
    std::cout << "  " << v.name << ": " << dtype_name(v.dtype) << " "
              << (v.shape ? ir::dims_to_string(*v.shape) : std::string("(rank unknown)")) << "\n";
}

struct InfoArgs {
  std::string model;
  bool plan = false;
  int largest = 10;
  std::vector<std::string> inputs;
  int64_t free_dim = 1;
  OptimizerFlags optimizer;
};

std::string human_bytes(size_t bytes) {
  std::ostringstream s;
  const bool mega = bytes >= 1000000;
  s << std::fixed << std::setprecision(mega ? 2 : 1) << static_cast<double>(bytes) / (mega ? 1e6 : 1e3)
    << (mega ? " MB" : " KB");
  return s.str();
}

void print_memory_plan(const InfoArgs& args) {
  SessionOptions options;
  args.optimizer.apply(options);
  Session session(args.model, options);
  const auto feeds = make_feeds(session, args.inputs, args.free_dim);
  const MemoryPlan plan = session.memory_plan(feeds);
  std::cout << "memory plan (level " << options.optimization_level << ", inputs";
  for (const auto& [name, t] : feeds) std::cout << " " << name << " " << shape_to_string(t.shape());
  std::cout << "):\n";
  std::cout << "  steps: " << plan.steps << ", buffers: " << plan.buffers.size() << ", outputs written in place: "
            << plan.in_place_outputs << "\n";
  std::cout << "  planned peak: " << human_bytes(plan.peak_bytes) << " in one block; without reuse "
            << human_bytes(plan.planned_bytes);
  if (plan.peak_bytes) std::cout << std::fixed << std::setprecision(1) << " ("
                                 << static_cast<double>(plan.planned_bytes) / static_cast<double>(plan.peak_bytes)
                                 << "x)";
  std::cout << "\n  results, outside the block: " << human_bytes(plan.unplanned_bytes) << "\n";
  print_optimizer_warnings(session.optimizer_warnings(), std::cout);
  std::vector<const MemoryPlan::Buffer*> order;
  for (const auto& b : plan.buffers) order.push_back(&b);
  std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) { return a->bytes > b->bytes; });
  order.resize(std::min(order.size(), static_cast<size_t>(std::max(args.largest, 0))));
  if (order.empty()) return;
  std::cout << "  largest buffers:\n" << std::setw(14) << "bytes" << std::setw(14) << "offset" << std::setw(12)
            << "steps" << "  node\n";
  for (const auto* b : order) {
    std::cout << std::setw(14) << b->bytes << std::setw(14) << (b->planned ? std::to_string(b->offset) : "result")
              << std::setw(12) << (std::to_string(b->first_step) + "-" + std::to_string(b->last_step)) << "  "
              << b->node << "\n";
  }
}

std::string seconds_to_utc(int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &utc);
  return text;
}

// An LLM engine's weight format, files and parameters.
void print_llm_engine(const engine::EngineFile& engine) {
  const engine::BuildInfo& b = engine.build();
  std::cout << "LLM weights: " << b.weight_quant;
  if (b.weight_quant != "none") std::cout << " (group " << b.weight_group << "; 0: the format's default)";
  std::cout << "\nfiles:";
  for (const auto& [name, bytes] : engine.files()) std::cout << " " << name << " (" << bytes.size() << " bytes)";
  int64_t params = 0;
  const auto tensors = engine.tensors();
  for (const auto& [name, t] : tensors) params += t.numel();
  std::cout << "\nparameters: " << params << " in " << tensors.size() << " tensors, held only in their prepared form\n";
}

// Prints how the engine was built; for an ONNX engine returns its (optimized) model.
std::optional<ir::Model> engine_info(const std::string& path) {
  const auto engine = engine::EngineFile::open(path);
  const engine::BuildInfo& b = engine->build();
  std::cout << "engine: " << path << " (" << human_bytes(engine->size()) << ", format version "
            << engine::kEngineFormatVersion << ")\n";
  std::cout << "built by: kiln " << b.kiln_version << " on " << seconds_to_utc(b.created_unix_seconds) << "\n";
  std::cout << "source: " << b.source_name << " (" << b.source_bytes << " bytes, xxh64 " << std::hex << std::setw(16)
            << std::setfill('0') << b.source_xxh64 << std::dec << std::setfill(' ') << ")\n";
  std::cout << "cpu level: " << cpu_level_name(b.cpu_level) << ", needs:";
  for (const std::string& f : b.cpu_features) std::cout << " " << f;
  std::cout << (b.cpu_features.empty() ? " nothing beyond x86-64" : "") << "\n";
  std::cout << "prepared weights: " << human_bytes(engine->prepared_bytes()) << "\n";
  if (!engine->has_model()) {
    print_llm_engine(*engine);
    return std::nullopt;
  }
  std::cout << "optimization level: " << b.optimization_level;
  for (const std::string& p : b.disabled_passes) std::cout << ", without " << p;
  for (const auto& [name, size] : b.dim_overrides) std::cout << ", " << name << "=" << size;
  std::cout << "\n";
  return engine->model();
}

void run_info(const std::string& path) {
  const bool engine = engine::is_engine_file(path);
  std::optional<ir::Model> engine_model = engine ? engine_info(path) : std::nullopt;
  if (engine && !engine_model) return;
  const ir::Model model = engine ? std::move(*engine_model) : onnx_io::load_model(path);
  const ir::Graph& g = model.graph;
  if (!engine) std::cout << "model: " << path << "\n";
  std::cout << "producer: " << (model.producer_name.empty() ? "(none)" : model.producer_name) << " "
            << model.producer_version << ", IR version " << model.ir_version << "\n";
  std::cout << "opsets:";
  for (const auto& [domain, version] : model.opset_imports)
    std::cout << " " << (domain.empty() ? "ai.onnx" : domain) << "=" << version;
  std::cout << "\n";
  print_values("inputs", g.inputs);
  std::vector<ir::Value> outputs;
  for (const auto& o : g.outputs) outputs.push_back(o.dtype == DType::Undefined ? g.find_value(o.name).value_or(o) : o);
  print_values("outputs", outputs);
  int64_t params = 0;
  size_t param_bytes = 0, held_bytes = 0;
  for (const auto* initializers : {&g.initializers, &g.input_defaults})
    for (const auto& [name, t] : *initializers) {
      params += t.numel();
      param_bytes += t.nbytes();
      if (t.raw()) held_bytes += t.nbytes();
    }
  std::cout << "parameters: " << params << " in " << g.initializers.size() + g.input_defaults.size()
            << " initializers (" << param_bytes << " bytes)\n";
  if (engine) std::cout << "stored as they are: " << held_bytes << " bytes (the rest only as prepared weights)\n";
  if (!g.input_defaults.empty()) {
    std::cout << "overridable initializers:";
    for (const auto& [name, t] : g.input_defaults) std::cout << " " << name;
    std::cout << "\n";
  }
  std::map<std::string, int> histogram;
  for (const auto& n : g.nodes) histogram[n.domain.empty() ? n.op_type : n.domain + "." + n.op_type]++;
  std::cout << "nodes: " << g.nodes.size() << "\n";
  for (const auto& [op, count] : histogram) std::cout << "  " << op << ": " << count << "\n";
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Show a model's inputs, outputs, opsets, op histogram and parameter count");
  auto args = std::make_shared<InfoArgs>();
  cmd->add_option("model", args->model, "ONNX model or engine file (.kiln)")->required()->check(CLI::ExistingFile);
  cmd->add_flag("--plan", args->plan,
                "also run the optimized model once and print its memory plan for those input shapes");
  cmd->add_option("--largest", args->largest, "buffers listed by --plan, largest first (default 10)")
      ->check(CLI::NonNegativeNumber);
  add_feed_options(*cmd, args->inputs, args->free_dim);
  add_optimizer_flags(*cmd, args->optimizer);
  cmd->callback([args] {
    run_info(args->model);
    if (args->plan) print_memory_plan(*args);
  });
}

}  // namespace kiln::cli
