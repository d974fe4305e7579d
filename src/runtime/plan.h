// An execution plan: the graph's nodes in topological order, each with its kernel and the slots
// of its inputs and outputs in a per-run value table. Built once per session; immutable after,
// but for the profiler's on/off switch.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/memory_pattern.h"
#include "core/tensor_arena.h"
#include "core/thread_pool.h"
#include "core/trace.h"
#include "core/weight_store.h"
#include "ir/graph.h"
#include "kiln/session.h"
#include "ops/registry.h"

namespace kiln::runtime {

struct Step {
  const ir::Node* node;
  size_t node_index;  // in the graph's node list: what names the node's prepared weights
  int64_t opset;
  std::unique_ptr<ops::OpKernel> kernel;
  std::vector<int> inputs;   // value slots; -1 for an absent optional input
  std::vector<int> outputs;  // value slots
  std::vector<int> release;  // slots whose last reader is this step: freed right after it
  // Positions of inputs this step reads last that the kernel may write an output into.
  std::vector<size_t> overwritable_inputs;
};

// How a plan is made beyond the session's options.
struct PlanSetup {
  // Records creation's phases, and the runs' nodes while profiling is on; null when not profiling.
  std::shared_ptr<Trace> trace;
  // Where kernels' prepared weights come from (engine/: an engine file's, or recorded for one);
  // fresh_weight_store() when null. Each node asks under "n<node index>/".
  WeightStore* weights = nullptr;
  // The model was optimized when its engine was built, for this CPU level: no pass runs, and the
  // session's own optimization options are not used.
  std::optional<CpuLevel> prebuilt_for;
  // Called with the optimized model before kernels are made (and may free what they pack):
  // SessionOptions::optimized_model_path writes it.
  std::function<void(const ir::Model&)> on_optimized;
};

class Plan {
 public:
  Plan(ir::Model model, const SessionOptions& options, const PlanSetup& setup = {});

  const std::vector<TensorInfo>& inputs() const { return input_infos_; }
  const std::vector<TensorInfo>& outputs() const { return output_infos_; }
  const std::vector<TensorInfo>& overridable_initializers() const { return overridable_infos_; }
  const ir::Model& model() const { return model_; }
  const std::vector<PassReport>& optimizer_report() const { return optimizer_report_; }
  const std::vector<std::string>& optimizer_warnings() const { return optimizer_warnings_; }
  CpuLevel cpu_level() const { return cpu_level_; }
  // Every step in run order.
  const std::vector<Step>& steps() const { return steps_; }

  // Feeds must be given for every graph input (overridable initializers optional), with
  // matching dtypes and static dims.
  std::vector<Tensor> run(const std::map<std::string, Tensor>& feeds, const std::vector<std::string>& output_names) const;
  MemoryPlan memory_plan(const std::map<std::string, Tensor>& feeds, const std::vector<std::string>& output_names) const;

  // Stops recording runs and writes the trace to `path`; false when profiling is off or ended.
  bool end_profiling(const std::string& path);

 private:
  // What selects a memory pattern: the feeds' dtypes and shapes, and the outputs asked for.
  using PatternKey = std::vector<int64_t>;
  struct RecordedPattern {
    std::shared_ptr<const MemoryPattern> pattern;
    int in_place_outputs = 0;
  };
  // A value a run may feed: a graph input, or an overridable initializer with its default.
  struct Feedable {
    const TensorInfo* info;
    int slot;
    const Tensor* fallback;  // null: the run must feed it
  };
  struct StepTiming;

  void build_steps(const CpuLevel cpu_level, WeightStore& weights);
  int slot_of(const std::string& name) const;
  void check_feed(const TensorInfo& info, const Tensor& feed) const;
  std::vector<Tensor> execute(const std::map<std::string, Tensor>& feeds, const std::vector<std::string>& output_names,
                              PatternKey& key) const;
  void record_run(Trace::Clock::time_point start, std::vector<StepTiming>& timings) const;
  std::unique_ptr<TensorArena> take_arena() const;
  void return_arena(std::unique_ptr<TensorArena> arena) const;
  std::optional<RecordedPattern> find_pattern(const PatternKey& key) const;
  void remember_pattern(const PatternKey& key, RecordedPattern pattern) const;

  ir::Model model_;
  CpuLevel cpu_level_;
  std::vector<PassReport> optimizer_report_;
  std::vector<std::string> optimizer_warnings_;
  std::vector<TensorInfo> input_infos_, output_infos_, overridable_infos_;
  std::vector<Feedable> feedables_;
  std::map<std::string, int> slots_;
  size_t slot_count_ = 0;
  std::vector<std::pair<int, const Tensor*>> constants_;  // initializer slots
  std::vector<Step> steps_;
  std::unique_ptr<ThreadPool> pool_;
  std::shared_ptr<Trace> trace_;
  std::atomic<bool> profiling_{false};
  // Arenas of finished runs, for the next ones; concurrent runs each take their own.
  mutable std::mutex arenas_mutex_;
  mutable std::vector<std::unique_ptr<TensorArena>> idle_arenas_;
  // Memory patterns by input shapes, the oldest dropped past kMaxPatterns so that a stream of
  // ever-new shapes keeps memory bounded.
  static constexpr size_t kMaxPatterns = 32;
  mutable std::mutex patterns_mutex_;
  mutable std::map<PatternKey, RecordedPattern> patterns_;
  mutable std::vector<PatternKey> pattern_order_;  // oldest first
};

}  // namespace kiln::runtime
