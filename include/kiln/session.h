// The public C++ API for running an ONNX model or a Kiln engine file (`kiln build`).
//
//   kiln::Session session("model.onnx");  // or "model.kiln"
//   auto outputs = session.run({{"image", input}});
//   const kiln::Tensor& logits = outputs.at("logits");
//
// A Session is immutable once created; run() may be called from many threads at once.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kiln/tensor.h"

namespace kiln {

namespace runtime {
class Plan;
}

struct SessionOptions {
  int threads = 1;               // threads a run may use, the calling thread included; 0: one per core
  int optimization_level = 3;    // 0 none, 1 basic, 2 extended (fusions), 3 layout; the default runs all
  // Kernel instruction set: "scalar", "avx2" or "avx512"; empty takes KILN_CPU_LEVEL, else the
  // best this CPU supports. Lower levels exist so every path can be tested on one machine.
  std::string cpu_level;
  // Microseconds an idle worker thread polls for work before sleeping. 0, the default, never
  // spins (a run whose last pieces are still computing on other threads polls for them at most
  // 50 us: a wait bounded by its own work); ~100 keeps threads awake across a network's
  // back-to-back parallel regions, where waking a sleeping thread can cost tens of microseconds
  // (ORT spins by default).
  int spin_wait_us = 0;
  // Sizes for the inputs' symbolic dims, by name ({"batch", 1}), as ONNX Runtime's free dimension
  // overrides: the dims become static, so inputs must have those sizes. An unknown name is an error.
  std::map<std::string, int64_t> dim_overrides;
  // Optimizer passes not to run, by name (`kiln passes` lists them); an unknown name is an error.
  std::vector<std::string> disabled_passes;
  // Records a Chrome trace (chrome://tracing, Perfetto) in ONNX Runtime's event format: session
  // creation's phases (import, each optimizer pass, kernel preparation) and every node of every
  // run. Session::end_profiling writes it. Off, a run pays one untaken branch per node.
  bool enable_profiling = false;
  // end_profiling writes <prefix>_<date>_<time>.json unless given a path.
  std::string profile_file_prefix = "kiln_profile";
  // When set, session creation writes the optimized model here (ONNX Runtime's
  // optimized_model_filepath): a Kiln engine file when the path ends in ".kiln", otherwise ONNX
  // with Kiln's fused ops, as `kiln optimize` writes it.
  std::string optimized_model_path;
};

// What the model file says about itself (ONNX's ModelProto fields; ONNX Runtime's ModelMetadata).
struct ModelMetadata {
  std::string producer_name, producer_version;
  std::string graph_name, graph_description;
  std::string domain, description;
  int64_t version = 0;
  std::map<std::string, std::string> custom_metadata_map;
};

// What one optimizer pass did while the session was created.
struct PassReport {
  std::string name;
  int level = 0;         // the optimization level whose list the pass belongs to
  int rounds = 0;        // times it ran: its level repeats until no pass changes the graph
  int64_t changes = 0;   // rewrites it made, over all rounds
  double milliseconds = 0;
};

// Dims are -1 where unknown; `dim_names` holds the symbolic name of such a dim, if any.
struct TensorInfo {
  std::string name;
  DType dtype = DType::Undefined;
  std::optional<Shape> shape;  // nullopt: rank unknown
  std::vector<std::string> dim_names;
};

// How runs with one set of input shapes lay out their intermediate tensors (Session::memory_plan).
// A run records when each buffer it requests lives; later runs with the same input shapes take
// every buffer at a planned offset in one block of `peak_bytes`, sharing bytes between buffers
// whose lifetimes are disjoint.
struct MemoryPlan {
  struct Buffer {
    std::string node;  // the node whose output it holds first
    size_t bytes = 0;
    size_t offset = 0;  // in the block; meaningless when not planned
    int first_step = 0, last_step = 0;  // the steps (nodes in run order) it lives through
    bool planned = true;                // false for a result handed to the caller
  };
  std::vector<Buffer> buffers;  // in the order the run requests them
  size_t peak_bytes = 0;        // the block planned buffers share
  size_t planned_bytes = 0;     // planned buffers' sizes summed: the memory without reuse
  size_t unplanned_bytes = 0;   // results, allocated apart from the block
  int steps = 0;
  int in_place_outputs = 0;  // outputs written over an input no one read afterwards
};

class Session {
 public:
  // `model_path` is an ONNX model or a Kiln engine file, told apart by their contents. An engine
  // was optimized and packed when it was built: the options that shaped that (optimization level,
  // disabled passes, dim overrides, CPU level) were fixed then, and a session ignores its own
  // optimization level and disabled passes; dim overrides, or a CPU level other than the engine's,
  // are an error naming the option.
  explicit Session(const std::string& model_path, const SessionOptions& options = {});
  // The same from the file's bytes, which the session copies what it needs from (an engine's
  // weights included). `base_dir` resolves an ONNX model's external data files.
  Session(const void* model_bytes, size_t size, const SessionOptions& options = {}, const std::string& base_dir = "");
  ~Session();
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;

  // The inputs a run must feed.
  const std::vector<TensorInfo>& inputs() const;
  const std::vector<TensorInfo>& outputs() const;
  // Initializers the model also lists as graph inputs (IR version 4 and later): a run may feed
  // them by name to replace their values, and takes the model's values otherwise. They are not
  // constants, so the optimizer does not fold them and kernels do not pack them.
  const std::vector<TensorInfo>& overridable_initializers() const;
  const ModelMetadata& metadata() const;
  // The kernels' instruction set: "scalar", "avx2" or "avx512".
  std::string cpu_level() const;
  // Every pass the optimizer ran, in order.
  const std::vector<PassReport>& optimizer_report() const;
  // What the optimized graph still runs slowly and why, one message each: today the QuantizeLinear
  // and DequantizeLinear nodes of a quantized model that no fusion took into an int8 kernel.
  const std::vector<std::string>& optimizer_warnings() const;

  // Runs with every graph input fed by name; returns every graph output by name.
  std::map<std::string, Tensor> run(const std::map<std::string, Tensor>& feeds) const;
  // Returns only the named outputs, in the order asked.
  std::vector<Tensor> run(const std::map<std::string, Tensor>& feeds, const std::vector<std::string>& output_names) const;
  // The memory plan of runs with these feeds' shapes (all outputs asked for); runs once to make it
  // when no run with those shapes has.
  MemoryPlan memory_plan(const std::map<std::string, Tensor>& feeds) const;

  // Stops profiling (SessionOptions::enable_profiling) and writes the trace as JSON to `path`, or
  // when empty to <profile_file_prefix>_<date>_<time>.json; returns the path written, or "" when
  // profiling was off or already ended. A run in flight when it is called is recorded whole or not at all.
  std::string end_profiling(const std::string& path = "");

 private:
  std::shared_ptr<runtime::Plan> plan_;
  ModelMetadata metadata_;
  std::string profile_file_prefix_;
};

}  // namespace kiln
