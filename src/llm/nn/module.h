// kiln::llm::nn::Module, in the spirit of torch.nn.Module: a tree of modules, each owning named
// parameters, reached by dotted paths ("model.layers.0.self_attn.q_proj.weight"). Modules declare
// their parameters' shapes when they are built; load_state_dict fills them from a checkpoint with
// strict checks, to() changes the dtype they are stored in, and save() writes them back out.
//
// Parameters are stored, not computed with: after loading or converting, prepare() lets each
// module build what its forward pass reads (packed GEMM panels, quantized blocks, copies). A
// forward pass reads a prepared tree only, so one tree serves concurrent sequences. That also lets
// a model loaded from a mapped file hold its parameters there rather than in memory (deferred
// parameters, see StateSource::describe): a GGUF's Q4_0 weights, which are float32 as parameters,
// then take their packed size, not eight times the file's.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/cpu_features.h"
#include "core/weight_store.h"
#include "kiln/tensor.h"
#include "llm/nn/parameter.h"
#include "llm/nn/projection.h"

namespace kiln::llm::nn {

// How prepare() builds the forward pass: the kernels' instruction set, and the format the linear
// layers' weights are computed from.
struct PrepareOptions {
  CpuLevel level = CpuLevel::Scalar;
  WeightQuant quant;
};

// How far a long step has come: `done` of `total` units of `stage` ("loading": tensors read,
// "preparing": modules prepared). Called after each unit, from the thread doing the step.
using Progress = std::function<void(std::string_view stage, int64_t done, int64_t total)>;

// A tensor's shape and dtype, told without its values.
struct TensorDescription {
  Shape shape;
  DType dtype = DType::Undefined;
};

// Where load_state_dict reads tensors from: a checkpoint, a GGUF file, a map in a test.
struct StateSource {
  std::string name;                                       // named in errors
  std::function<std::vector<std::string>()> names;        // every tensor it holds
  std::function<bool(const std::string&)> contains;
  std::function<Tensor(const std::string&)> tensor;
  // Optional: the shape and dtype `tensor` gives for a name, without reading it. A source that
  // sets it must own what its functions read and stay readable for as long as the module lives (a
  // mapped checkpoint or GGUF file): the module keeps the source rather than the tensors, and its
  // parameters are deferred.
  std::function<TensorDescription(const std::string&)> describe;
  // Optional, with `describe`: a tensor's codes when the source stores it quantized (GGUF's Q8_0
  // and Q4_0 blocks), nullopt for one it does not. A projection computed in that very format takes
  // them as they are rather than quantizing the float values again (Parameter::stored_codes).
  std::function<std::optional<StoredCodes>(const std::string&)> codes;
};

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Depth first, each module's own parameters before its children's, in registration order.
  // Deferred parameters are read; the pointers stay valid until the next prepare().
  std::vector<std::pair<std::string, const Tensor*>> named_parameters() const;
  int64_t parameter_count() const;
  // The parameter's value at a dotted path (read when deferred; valid until the next prepare());
  // Error(InvalidArgument) naming the path when there is none.
  const Tensor& parameter(const std::string& path) const;

  // Takes every parameter from `source`, converting floating-point tensors to the parameter's
  // dtype (the source's, the first time). A tensor already in that dtype is kept as it is,
  // sharing its buffer: a checkpoint's file mapping is not copied. From a source that can
  // describe its tensors, nothing is read here: the parameters are deferred to it. Error(InvalidModel)
  // naming the source when a tensor has the wrong shape or is not floating point; with `strict`,
  // also when parameters are missing from the source or the source holds tensors no parameter
  // takes (the message lists both sets). Calls prepare(), reporting both steps to `progress`
  // when given, with `weights` (see prepare).
  void load_state_dict(const StateSource& source, bool strict = true, const Progress& progress = {},
                       WeightStore* weights = nullptr);
  // Stores every floating-point parameter as `dtype` (Float32, Float16 or BFloat16), then prepares.
  // A deferred parameter stays deferred, converted as it is read.
  void to(DType dtype);
  // Computes the linear layers from int8 or int4 weights (or, with WeightQuant::Float, from the
  // parameters as stored): prepares again with `quant`. The parameters keep their dtype, so save()
  // writes what was loaded and to(Float) is lossless; the quantized codes are what prepare() builds.
  void to(WeightQuant quant);
  // Writes the parameters to a safetensors file under their dotted names.
  void save(const std::string& path) const;

  // Builds what the forward pass reads from the parameters as stored; recursive. load_state_dict
  // and to() prepare again with the options last given. What is built comes from `weights`
  // (fresh_weight_store() when null), each module's keys under its dotted path ("model.norm.scale"):
  // an engine file's store hands out what it stored, and parameters are then never read.
  void prepare(const PrepareOptions& options, const Progress& progress = {}, WeightStore* weights = nullptr);
  const PrepareOptions& prepared_for() const { return options_; }
  CpuLevel level() const { return options_.level; }

 protected:
  // Declares a parameter, unset (undefined) until loaded; the reference stays valid for the
  // module's life.
  Parameter& register_parameter(std::string name, Shape shape);
  template <class M>
  M& register_module(std::string name, std::unique_ptr<M> module) {
    M& ref = *module;
    children_.emplace_back(std::move(name), std::move(module));
    return ref;
  }
  // This module's own part of prepare(), after its children's; `weights` is scoped to the module.
  virtual void prepare_self(const PrepareOptions&, WeightStore&) {}

 private:
  struct Slot {
    std::string name;
    std::unique_ptr<Parameter> parameter;  // stable address for register_parameter's reference
  };
  void visit(const std::string& prefix, const std::function<void(const std::string&, Slot&)>& fn);
  void visit(const std::string& prefix, const std::function<void(const std::string&, const Slot&)>& fn) const;
  int64_t module_count() const;
  void prepare_tree(const PrepareOptions& options, WeightStore& weights, const Progress& progress, int64_t& done,
                    int64_t total);

  std::vector<Slot> parameters_;
  std::vector<std::pair<std::string, std::unique_ptr<Module>>> children_;
  PrepareOptions options_;
};

// A list of modules named by index ("layers.0", "layers.1", ...), as torch.nn.ModuleList.
template <class M>
class ModuleList : public Module {
 public:
  M& append(std::unique_ptr<M> module) {
    items_.push_back(&register_module(std::to_string(items_.size()), std::move(module)));
    return *items_.back();
  }
  size_t size() const { return items_.size(); }
  M& operator[](size_t i) { return *items_[i]; }
  const M& operator[](size_t i) const { return *items_[i]; }

 private:
  std::vector<M*> items_;
};

}  // namespace kiln::llm::nn
