#include "runtime/plan.h"

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "ir/graph_edit.h"
#include "passes/pass_manager.h"
#include "passes/unfused_qdq.h"

namespace kiln::runtime {
namespace {

TensorInfo info_of(const ir::Value& v) {
  TensorInfo info{v.name, v.dtype, std::nullopt, {}};
  if (v.shape) {
    info.shape = Shape{};
    for (const auto& d : *v.shape) {
      info.shape->push_back(d.size);
      info.dim_names.push_back(d.symbol);
    }
  }
  return info;
}

std::string describe_info(const TensorInfo& info) {
  std::string s = dtype_name(info.dtype);
  if (info.shape) {
    s += " [";
    for (size_t i = 0; i < info.shape->size(); ++i) {
      if (i) s += ",";
      const int64_t d = (*info.shape)[i];
      s += d >= 0 ? std::to_string(d) : (info.dim_names[i].empty() ? "?" : info.dim_names[i]);
    }
    s += "]";
  }
  return s;
}

std::string names_of(const std::vector<TensorInfo>& infos) {
  std::string names;
  for (const auto& info : infos) names += (names.empty() ? "" : ", ") + info.name;
  return names;
}

const ops::KernelEntry& find_kernel(const ir::Node& node, int64_t opset, const std::vector<DType>& input_dtypes) {
  const auto& registry = ops::KernelRegistry::global();
  if (!registry.has_op(node.domain, node.op_type))
    throw Error(ErrorCode::NotImplemented, node.describe() + ": Kiln has no kernel for op '" + node.op_type + "'" +
                                               (node.domain.empty() ? "" : " of domain '" + node.domain + "'"));
  if (const ops::KernelEntry* entry = registry.find(node.domain, node.op_type, opset, ops::Provider::Cpu, input_dtypes))
    return *entry;
  std::string types;
  for (DType t : input_dtypes) types += std::string(types.empty() ? "" : ", ") + dtype_name(t);
  throw Error(ErrorCode::NotImplemented, node.describe() + ": no CPU kernel for opset " + std::to_string(opset) +
                                             " with input dtypes (" + types + ")");
}

// Keeps a tensor's dtype and shape (what a run still passes to its readers) and drops its elements.
void release_elements(Tensor& t) { t = Tensor::wrap(t.dtype(), t.shape(), nullptr, nullptr); }

// ONNX Runtime's spelling of the types and shapes in a node event's args:
// [{"float": [1, 3, 224, 224]}, ...].
std::string type_shapes_json(const std::vector<std::pair<DType, Shape>>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    out += std::string(i ? ", " : "") + "{" + json_quote(dtype_name(values[i].first)) + ": [";
    for (size_t d = 0; d < values[i].second.size(); ++d) out += (d ? ", " : "") + std::to_string(values[i].second[d]);
    out += "]}";
  }
  return out + "]";
}

}  // namespace

// One step of a profiled run: when its kernel ran, and the dtypes and shapes it read and wrote.
struct Plan::StepTiming {
  size_t step;
  Trace::Clock::time_point start;
  Trace::Clock::duration duration;
  std::vector<std::pair<DType, Shape>> inputs, outputs;
};

Plan::Plan(ir::Model model, const SessionOptions& options, const PlanSetup& setup)
    : model_(std::move(model)), trace_(setup.trace) {
  if (setup.prebuilt_for) {
    cpu_level_ = *setup.prebuilt_for;
    if (!options.dim_overrides.empty())
      throw Error(ErrorCode::InvalidArgument,
                  "SessionOptions::dim_overrides: an engine file's dims were fixed when it was built; rebuild it with "
                  "`kiln build MODEL.onnx --dim NAME=SIZE` to change them");
    if (!options.cpu_level.empty() &&
        parse_cpu_level(options.cpu_level, "SessionOptions::cpu_level") != cpu_level_)
      throw Error(ErrorCode::InvalidArgument, "SessionOptions::cpu_level is '" + options.cpu_level +
                                                  "', but the engine file was built for '" + cpu_level_name(cpu_level_) +
                                                  "'; rebuild it with `kiln build MODEL.onnx --cpu-level " +
                                                  options.cpu_level + "`");
  } else {
    cpu_level_ = requested_cpu_level(options.cpu_level, "SessionOptions::cpu_level");
    ir::set_symbolic_dims(model_.graph, options.dim_overrides);
    optimizer_report_ = passes::optimize(
        model_, {options.optimization_level, cpu_level_, options.disabled_passes, trace_.get()});
  }
  optimizer_warnings_ = passes::unfused_qdq_warnings(model_.graph);
  if (setup.on_optimized) setup.on_optimized(model_);
  const ir::Graph& g = model_.graph;
  auto add_slot = [&](const std::string& name) {
    const int s = static_cast<int>(slot_count_++);
    if (!name.empty()) slots_[name] = s;
    return s;
  };
  for (const auto& v : g.inputs) {
    const bool has_default = g.input_defaults.count(v.name) != 0;
    (has_default ? overridable_infos_ : input_infos_).push_back(info_of(v));
    add_slot(v.name);
  }
  for (const auto* infos : {&input_infos_, &overridable_infos_})
    for (const TensorInfo& info : *infos) {
      auto fallback = g.input_defaults.find(info.name);
      feedables_.push_back({&info, slots_.at(info.name), fallback == g.input_defaults.end() ? nullptr : &fallback->second});
    }
  for (const auto& [name, t] : g.initializers) constants_.emplace_back(add_slot(name), &t);
  for (const auto& n : g.nodes)
    for (const auto& o : n.outputs) add_slot(o);
  for (const auto& v : g.outputs) {
    TensorInfo info = info_of(v);
    if (info.dtype == DType::Undefined)
      if (auto known = g.find_value(v.name)) info = info_of(*known);
    output_infos_.push_back(info);
  }
  build_steps(cpu_level_, setup.weights ? *setup.weights : fresh_weight_store());

  const int threads = options.threads > 0 ? options.threads
                                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  if (options.spin_wait_us < 0)
    throw Error(ErrorCode::InvalidArgument,
                "SessionOptions::spin_wait_us must not be negative, got " + std::to_string(options.spin_wait_us));
  pool_ = std::make_unique<ThreadPool>(threads, options.spin_wait_us);
  profiling_ = options.enable_profiling && trace_;
}

void Plan::build_steps(const CpuLevel cpu_level, WeightStore& weights) {
  const ir::Graph& g = model_.graph;
  // Initializers freed as soon as their last reader is built, when no reader reads their elements.
  std::map<std::string, int> unbuilt_readers;
  std::set<std::string> data_read;
  for (const auto& node : g.nodes)
    for (const auto& in : node.inputs)
      if (g.initializers.count(in)) ++unbuilt_readers[in];
  for (const auto& v : g.outputs) data_read.insert(v.name);

  std::vector<int> last_reader(slot_count_, -1);
  for (size_t index : g.topological_order()) {
    const ir::Node& node = g.nodes[index];
    TraceSpan span(trace_.get(), node.name + "_prepare", "Session");
    Step step;
    step.node = &node;
    step.node_index = index;
    step.opset = model_.opset(node.domain);
    std::vector<DType> dtypes;
    std::vector<const Tensor*> constants;
    for (const auto& in : node.inputs) {
      step.inputs.push_back(in.empty() ? -1 : slots_.at(in));
      const auto value = in.empty() ? std::nullopt : g.find_value(in);
      dtypes.push_back(value ? value->dtype : DType::Undefined);
      auto init = g.initializers.find(in);
      constants.push_back(init == g.initializers.end() ? nullptr : &init->second);
      if (!in.empty()) last_reader[static_cast<size_t>(slots_.at(in))] = static_cast<int>(steps_.size());
    }
    for (const auto& o : node.outputs) step.outputs.push_back(o.empty() ? static_cast<int>(slot_count_++) : slots_.at(o));
    const auto& entry = find_kernel(node, step.opset, dtypes);
    ScopedWeightStore node_weights(weights, "n" + std::to_string(index) + "/");
    try {
      step.kernel = entry.factory(ops::KernelInfo(node, step.opset, dtypes, constants, cpu_level, &node_weights));
    } catch (const Error& e) {
      throw Error(e.code(), node.describe() + " opset " + std::to_string(step.opset) + ": " + e.what());
    }
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const std::string& in = node.inputs[i];
      if (!constants[i]) continue;
      if (step.kernel->reads_constant_data(i)) data_read.insert(in);
      if (--unbuilt_readers[in] == 0 && !data_read.count(in)) release_elements(model_.graph.initializers.at(in));
    }
    steps_.push_back(std::move(step));
    span.record("\"op_name\": " + json_quote(node.op_type));
  }
  last_reader.resize(slot_count_, -1);
  // Graph outputs and initializers stay alive for the whole run.
  for (const auto& v : g.outputs) last_reader[static_cast<size_t>(slots_.at(v.name))] = -1;
  for (const auto& [slot, t] : constants_) last_reader[static_cast<size_t>(slot)] = -1;
  for (size_t s = 0; s < slot_count_; ++s)
    if (last_reader[s] >= 0) steps_[static_cast<size_t>(last_reader[s])].release.push_back(static_cast<int>(s));
  // Fed values belong to the caller (or are the model's defaults); graph outputs and initializers
  // never have a last reader.
  for (const Feedable& f : feedables_) last_reader[static_cast<size_t>(f.slot)] = -1;
  for (size_t index = 0; index < steps_.size(); ++index) {
    Step& step = steps_[index];
    for (size_t i = 0; i < step.inputs.size(); ++i) {
      const int slot = step.inputs[i];
      if (slot >= 0 && last_reader[static_cast<size_t>(slot)] == static_cast<int>(index) &&
          step.kernel->may_write_output_into_input(i))
        step.overwritable_inputs.push_back(i);
    }
  }
}

int Plan::slot_of(const std::string& name) const {
  auto it = slots_.find(name);
  return it == slots_.end() ? -1 : it->second;
}

void Plan::check_feed(const TensorInfo& info, const Tensor& feed) const {
  if (info.dtype != DType::Undefined && feed.dtype() != info.dtype)
    throw Error(ErrorCode::InvalidArgument, "input '" + info.name + "' must be " + describe_info(info) + ", got " +
                                                dtype_name(feed.dtype()) + " " + shape_to_string(feed.shape()));
  if (!info.shape) return;
  bool ok = info.shape->size() == feed.rank();
  for (size_t i = 0; ok && i < feed.rank(); ++i) ok = (*info.shape)[i] < 0 || (*info.shape)[i] == feed.dim(i);
  if (!ok)
    throw Error(ErrorCode::InvalidArgument, "input '" + info.name + "' must have shape " + describe_info(info) +
                                                ", got " + shape_to_string(feed.shape()));
}

std::vector<Tensor> Plan::run(const std::map<std::string, Tensor>& feeds,
                              const std::vector<std::string>& output_names) const {
  PatternKey key;
  return execute(feeds, output_names, key);
}

std::vector<Tensor> Plan::execute(const std::map<std::string, Tensor>& feeds,
                                  const std::vector<std::string>& output_names, PatternKey& key) const {
  // Read once: a run is recorded whole or not at all when end_profiling comes in the middle.
  const bool profile = profiling_.load(std::memory_order_relaxed);
  const Trace::Clock::time_point run_start = profile ? Trace::Clock::now() : Trace::Clock::time_point{};
  std::vector<StepTiming> timings;
  if (profile) timings.reserve(steps_.size());

  std::vector<Tensor> values(slot_count_);
  for (const auto& [slot, t] : constants_) values[static_cast<size_t>(slot)] = *t;
  for (const auto& [name, t] : feeds) {
    auto it = std::find_if(feedables_.begin(), feedables_.end(), [&](const Feedable& f) { return f.info->name == name; });
    if (it == feedables_.end()) {
      throw Error(ErrorCode::InvalidArgument,
                  "the model has no input '" + name + "'; its inputs are: " + names_of(input_infos_) +
                      (overridable_infos_.empty() ? "" : "; its overridable initializers: " + names_of(overridable_infos_)));
    }
    check_feed(*it->info, t);
    values[static_cast<size_t>(it->slot)] = t;
  }
  key.clear();
  for (const Feedable& f : feedables_) {
    Tensor& feed = values[static_cast<size_t>(f.slot)];
    if (!feed.defined()) {
      if (!f.fallback)
        throw Error(ErrorCode::InvalidArgument, "input '" + f.info->name + "' (" + describe_info(*f.info) +
                                                    ") was not given");
      feed = *f.fallback;
    }
    key.push_back(static_cast<int64_t>(feed.dtype()));
    key.push_back(static_cast<int64_t>(feed.rank()));
    key.insert(key.end(), feed.shape().begin(), feed.shape().end());
  }
  std::vector<int> wanted;
  for (const auto& name : output_names) {
    // Only graph outputs: other values are freed after their last reader.
    auto is_named = [&](const TensorInfo& info) { return info.name == name; };
    if (std::none_of(output_infos_.begin(), output_infos_.end(), is_named)) {
      throw Error(ErrorCode::InvalidArgument,
                  "the model has no output '" + name + "'; its outputs are: " + names_of(output_infos_));
    }
    wanted.push_back(slot_of(name));
    key.push_back(wanted.back());
  }

  const std::optional<RecordedPattern> known = find_pattern(key);
  std::unique_ptr<TensorArena> arena = take_arena();
  arena->begin_run(known ? known->pattern : nullptr);
  std::vector<uint8_t> in_arena(slot_count_, 0);
  int in_place_outputs = 0;
  std::vector<const Tensor*> in_ptrs, overwritable;
  std::vector<Tensor*> out_ptrs;
  for (size_t index = 0; index < steps_.size(); ++index) {
    const Step& step = steps_[index];
    in_ptrs.clear();
    out_ptrs.clear();
    overwritable.clear();
    for (size_t i = 0; i < step.inputs.size(); ++i) {
      const int s = step.inputs[i];
      if (s >= 0 && !values[static_cast<size_t>(s)].defined())
        throw Error(ErrorCode::Runtime, step.node->describe() + ": input '" + step.node->inputs[i] + "' was not computed");
      in_ptrs.push_back(s < 0 ? nullptr : &values[static_cast<size_t>(s)]);
    }
    // Two owners, the value table and the arena: no view of the buffer lives elsewhere.
    for (size_t i : step.overwritable_inputs) {
      const Tensor& input = values[static_cast<size_t>(step.inputs[i])];
      if (in_arena[static_cast<size_t>(step.inputs[i])] && input.owner().use_count() == 2) overwritable.push_back(&input);
    }
    for (int s : step.outputs) out_ptrs.push_back(&values[static_cast<size_t>(s)]);
    arena->set_step(static_cast<int>(index));
    ops::KernelContext ctx(in_ptrs, out_ptrs, *pool_, arena.get(), overwritable);
    const Trace::Clock::time_point step_start = profile ? Trace::Clock::now() : Trace::Clock::time_point{};
    try {
      step.kernel->compute(ctx);
    } catch (const Error& e) {
      throw Error(e.code(), step.node->describe() + " opset " + std::to_string(step.opset) + ": " + e.what());
    } catch (const std::exception& e) {
      throw Error(ErrorCode::Runtime, step.node->describe() + " opset " + std::to_string(step.opset) + ": " + e.what());
    }
    if (profile) {
      StepTiming& t = timings.emplace_back(StepTiming{index, step_start, Trace::Clock::now() - step_start, {}, {}});
      for (const Tensor* in : in_ptrs)
        if (in) t.inputs.emplace_back(in->dtype(), in->shape());
      for (const Tensor* out : out_ptrs) t.outputs.emplace_back(out->dtype(), out->shape());
    }
    for (size_t i = 0; i < step.outputs.size(); ++i)
      in_arena[static_cast<size_t>(step.outputs[i])] = ctx.output_in_arena(i);
    in_place_outputs += ctx.outputs_in_place();
    for (int s : step.release) values[static_cast<size_t>(s)] = Tensor();
    arena->end_step();
  }

  std::vector<Tensor> out;
  for (size_t i = 0; i < wanted.size(); ++i) {
    const Tensor& t = values[static_cast<size_t>(wanted[i])];
    if (!t.defined()) throw Error(ErrorCode::Runtime, "output '" + output_names[i] + "' was not computed");
    // Callers may write into their outputs (Python hands them out as writable arrays), so an
    // output holding a constant's buffer (the constant, or a view of it) is a copy: the
    // constants stay as every later run needs them.
    const bool holds_constant =
        std::any_of(constants_.begin(), constants_.end(), [&](const auto& c) { return c.second->owner() == t.owner(); });
    out.push_back(holds_constant ? t.clone() : t);
  }
  values.clear();
  std::vector<BufferLifetime> lifetimes = arena->end_run();
  arena->trim();
  return_arena(std::move(arena));
  if (!known)
    remember_pattern(key, {std::make_shared<const MemoryPattern>(plan_memory(std::move(lifetimes))), in_place_outputs});
  if (profile) record_run(run_start, timings);
  return out;
}

void Plan::record_run(Trace::Clock::time_point start, std::vector<StepTiming>& timings) const {
  const Trace::Clock::duration run_time = Trace::Clock::now() - start;
  const int64_t thread = Trace::thread_id();
  std::vector<Trace::Event> events;
  events.reserve(timings.size() + 1);
  events.push_back({"model_run", "Session", start, run_time, thread, ""});
  for (const StepTiming& t : timings) {
    const Step& step = steps_[t.step];
    events.push_back({step.node->name + "_kernel_time", "Node", t.start, t.duration, thread,
                      "\"op_name\": " + json_quote(step.node->op_type) +
                          ", \"provider\": \"CPUExecutionProvider\", \"node_index\": " + std::to_string(step.node_index) +
                          ", \"input_type_shape\": " + type_shapes_json(t.inputs) +
                          ", \"output_type_shape\": " + type_shapes_json(t.outputs)});
  }
  trace_->add(events);
}

bool Plan::end_profiling(const std::string& path) {
  if (!profiling_.exchange(false)) return false;
  trace_->write(path);
  return true;
}

MemoryPlan Plan::memory_plan(const std::map<std::string, Tensor>& feeds,
                             const std::vector<std::string>& output_names) const {
  PatternKey key;
  execute(feeds, output_names, key);
  std::optional<RecordedPattern> recorded = find_pattern(key);
  // Other runs may have pushed it out of the cache meanwhile; this run then records it again.
  if (!recorded) {
    execute(feeds, output_names, key);
    recorded = find_pattern(key);
  }
  if (!recorded) throw Error(ErrorCode::Runtime, "the memory plan was evicted by concurrent runs; retry");
  const MemoryPattern& pattern = *recorded->pattern;
  MemoryPlan plan;
  plan.peak_bytes = pattern.peak_bytes;
  plan.planned_bytes = pattern.planned_bytes;
  plan.unplanned_bytes = pattern.unplanned_bytes;
  plan.steps = static_cast<int>(steps_.size());
  plan.in_place_outputs = recorded->in_place_outputs;
  for (size_t i = 0; i < pattern.buffers.size(); ++i) {
    const BufferLifetime& b = pattern.buffers[i];
    const ir::Node& node = *steps_[static_cast<size_t>(b.first_step)].node;
    plan.buffers.push_back({node.name.empty() ? node.op_type : node.name, b.bytes, pattern.offsets[i], b.first_step,
                            b.last_step, b.planned});
  }
  return plan;
}

std::optional<Plan::RecordedPattern> Plan::find_pattern(const PatternKey& key) const {
  std::lock_guard lock(patterns_mutex_);
  auto it = patterns_.find(key);
  if (it == patterns_.end()) return std::nullopt;
  return it->second;
}

void Plan::remember_pattern(const PatternKey& key, RecordedPattern pattern) const {
  std::lock_guard lock(patterns_mutex_);
  if (!patterns_.emplace(key, std::move(pattern)).second) return;
  pattern_order_.push_back(key);
  if (pattern_order_.size() > kMaxPatterns) {
    patterns_.erase(pattern_order_.front());
    pattern_order_.erase(pattern_order_.begin());
  }
}

std::unique_ptr<TensorArena> Plan::take_arena() const {
  std::lock_guard lock(arenas_mutex_);
  if (idle_arenas_.empty()) return std::make_unique<TensorArena>();
  auto arena = std::move(idle_arenas_.back());
  idle_arenas_.pop_back();
  return arena;
}

void Plan::return_arena(std::unique_ptr<TensorArena> arena) const {
  std::lock_guard lock(arenas_mutex_);
  idle_arenas_.push_back(std::move(arena));
}

}  // namespace kiln::runtime
