// The public Session: opens an ONNX model or an engine file, makes the plan (recording an engine
// or exporting the optimized ONNX when asked), and forwards runs to it.
#include "kiln/session.h"

#include <ctime>
#include <fstream>
#include <iterator>

#include "core/hash.h"
#include "engine/engine_file.h"
#include "engine/engine_format.h"
#include "engine/engine_writer.h"
#include "onnx/exporter.h"
#include "onnx/importer.h"
#include "runtime/plan.h"

namespace kiln {
namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::Io, "cannot read '" + path + "'");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A new ONNX model's plan. `source` gives the bytes an engine records the identity of; it is
// called only when SessionOptions::optimized_model_path asks for an engine.
std::shared_ptr<runtime::Plan> plan_from_model(ir::Model model, const SessionOptions& options,
                                               std::shared_ptr<Trace> trace, const std::string& source_name,
                                               const std::function<std::string()>& source) {
  const std::string& out = options.optimized_model_path;
  runtime::PlanSetup setup;
  setup.trace = std::move(trace);
  engine::RecordingWeightStore recorder;
  const bool engine = ends_with(out, ".kiln");
  if (engine) setup.weights = &recorder;
  else if (!out.empty()) setup.on_optimized = [&](const ir::Model& optimized) { onnx_io::save_model(optimized, out); };
  auto plan = std::make_shared<runtime::Plan>(std::move(model), options, setup);
  if (engine) {
    TraceSpan span(setup.trace.get(), "engine_writing", "Session");
    const std::string bytes = source();
    engine::EngineContents contents;
    contents.build = engine::describe_build(plan->cpu_level(), source_name, xxh64(bytes.data(), bytes.size()), bytes.size());
    contents.build.optimization_level = options.optimization_level;
    contents.build.disabled_passes = options.disabled_passes;
    contents.build.dim_overrides = options.dim_overrides;
    contents.model = &plan->model();
    contents.prepared = recorder.recorded();
    engine::write_engine(out, contents);
    span.record("\"path\": " + json_quote(out));
  }
  return plan;
}

std::shared_ptr<runtime::Plan> plan_from_engine(std::shared_ptr<const engine::EngineFile> file,
                                                const SessionOptions& options, std::shared_ptr<Trace> trace) {
  if (!options.optimized_model_path.empty())
    throw Error(ErrorCode::InvalidArgument, "SessionOptions::optimized_model_path: '" + file->name() +
                                                "' is an engine file, optimized when it was built");
  const std::unique_ptr<engine::EngineWeightStore> weights = file->prepared_weights();
  runtime::PlanSetup setup;
  setup.trace = std::move(trace);
  setup.weights = weights.get();
  setup.prebuilt_for = file->build().cpu_level;
  auto plan = std::make_shared<runtime::Plan>(file->model(), options, setup);
  if (const std::vector<std::string> unused = weights->unused(); !unused.empty())
    throw Error(ErrorCode::InvalidModel, "engine file '" + file->name() + "' holds prepared weights no kernel asked for ('" +
                                             unused.front() + "' and " + std::to_string(unused.size() - 1) +
                                             " more): it was built by another Kiln; rebuild it with `kiln build`");
  return plan;
}

std::shared_ptr<Trace> new_trace(const SessionOptions& options) {
  return options.enable_profiling ? std::make_shared<Trace>() : nullptr;
}

std::shared_ptr<runtime::Plan> open_plan(const std::string& path, const SessionOptions& options) {
  std::shared_ptr<Trace> trace = new_trace(options);
  if (engine::is_engine_file(path)) {
    TraceSpan span(trace.get(), "engine_loading", "Session");
    auto file = engine::EngineFile::open(path);
    span.record("\"path\": " + json_quote(path));
    return plan_from_engine(std::move(file), options, std::move(trace));
  }
  TraceSpan span(trace.get(), "model_loading_uri", "Session");
  ir::Model model = onnx_io::load_model(path);
  span.record("\"path\": " + json_quote(path));
  return plan_from_model(std::move(model), options, std::move(trace), path, [&] { return read_whole_file(path); });
}

std::shared_ptr<runtime::Plan> open_plan(const void* bytes, size_t size, const SessionOptions& options,
                                         const std::string& base_dir) {
  std::shared_ptr<Trace> trace = new_trace(options);
  if (engine::starts_like_engine(bytes, size)) {
    TraceSpan span(trace.get(), "engine_loading", "Session");
    auto file = engine::EngineFile::from_bytes(bytes, size, "(bytes)");
    span.record();
    return plan_from_engine(std::move(file), options, std::move(trace));
  }
  TraceSpan span(trace.get(), "model_loading_array", "Session");
  ir::Model model = onnx_io::load_model_from_bytes(bytes, size, base_dir);
  span.record();
  return plan_from_model(std::move(model), options, std::move(trace), "(bytes)",
                         [&] { return std::string(static_cast<const char*>(bytes), size); });
}

ModelMetadata metadata_of(const ir::Model& model) {
  return {model.producer_name, model.producer_version, model.graph.name, model.graph.doc_string,
          model.domain,        model.doc_string,       model.model_version, model.metadata_props};
}

std::string timestamped_profile_path(const std::string& prefix) {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d_%H-%M-%S", &local);
  return prefix + "_" + stamp + ".json";
}

}  // namespace

Session::Session(const std::string& model_path, const SessionOptions& options)
    : plan_(open_plan(model_path, options)),
      metadata_(metadata_of(plan_->model())),
      profile_file_prefix_(options.profile_file_prefix) {}

Session::Session(const void* model_bytes, size_t size, const SessionOptions& options, const std::string& base_dir)
    : plan_(open_plan(model_bytes, size, options, base_dir)),
      metadata_(metadata_of(plan_->model())),
      profile_file_prefix_(options.profile_file_prefix) {}

Session::~Session() = default;
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;

const std::vector<TensorInfo>& Session::inputs() const { return plan_->inputs(); }
const std::vector<TensorInfo>& Session::outputs() const { return plan_->outputs(); }
const std::vector<TensorInfo>& Session::overridable_initializers() const { return plan_->overridable_initializers(); }
const ModelMetadata& Session::metadata() const { return metadata_; }
std::string Session::cpu_level() const { return cpu_level_name(plan_->cpu_level()); }
const std::vector<PassReport>& Session::optimizer_report() const { return plan_->optimizer_report(); }
const std::vector<std::string>& Session::optimizer_warnings() const { return plan_->optimizer_warnings(); }

namespace {

std::vector<std::string> output_names(const runtime::Plan& plan) {
  std::vector<std::string> names;
  for (const auto& o : plan.outputs()) names.push_back(o.name);
  return names;
}

}  // namespace

std::map<std::string, Tensor> Session::run(const std::map<std::string, Tensor>& feeds) const {
  const std::vector<std::string> names = output_names(*plan_);
  auto values = plan_->run(feeds, names);
  std::map<std::string, Tensor> out;
  for (size_t i = 0; i < names.size(); ++i) out.emplace(names[i], std::move(values[i]));
  return out;
}

std::vector<Tensor> Session::run(const std::map<std::string, Tensor>& feeds,
                                 const std::vector<std::string>& output_names) const {
  return plan_->run(feeds, output_names);
}

MemoryPlan Session::memory_plan(const std::map<std::string, Tensor>& feeds) const {
  return plan_->memory_plan(feeds, output_names(*plan_));
}

std::string Session::end_profiling(const std::string& path) {
  const std::string target = path.empty() ? timestamped_profile_path(profile_file_prefix_) : path;
  return plan_->end_profiling(target) ? target : "";
}

}  // namespace kiln
