// The kernel interface. A kernel is created once per node at session creation from a KernelInfo
// (attributes, opset, constant inputs: where weights are checked and packed), then `compute` runs
// it. `compute` is const and keeps no state between calls, so concurrent runs share a kernel.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "core/tensor_arena.h"
#include "core/thread_pool.h"
#include "core/weight_store.h"
#include "ir/graph.h"
#include "kiln/tensor.h"

namespace kiln::ops {

class KernelInfo {
 public:
  // `weights`: where the kernel's prepared weights come from (fresh_weight_store() when null), scoped
  // to this node.
  KernelInfo(const ir::Node& node, int64_t opset, std::vector<DType> input_dtypes,
             std::vector<const Tensor*> constant_inputs, CpuLevel cpu_level = CpuLevel::Scalar,
             WeightStore* weights = nullptr)
      : node_(node),
        opset_(opset),
        input_dtypes_(std::move(input_dtypes)),
        constant_inputs_(std::move(constant_inputs)),
        cpu_level_(cpu_level),
        weights_(weights ? *weights : fresh_weight_store()) {}

  const ir::Node& node() const { return node_; }
  int64_t opset() const { return opset_; }
  // The instruction set the session's kernels use; kernels pick fast paths and pack weights for it.
  CpuLevel cpu_level() const { return cpu_level_; }
  size_t input_count() const { return node_.inputs.size(); }
  bool has_input(size_t i) const { return i < node_.inputs.size() && !node_.inputs[i].empty(); }
  // Dtype of input i as known at session creation (Undefined when absent).
  DType input_dtype(size_t i) const { return i < input_dtypes_.size() ? input_dtypes_[i] : DType::Undefined; }
  // Input i's value when it is an initializer (weights, constant shapes); nullptr otherwise. Its
  // elements may be absent (data() null) when the session comes from an engine file and no
  // kernel reads them (OpKernel::reads_constant_data): a kernel that prepares weights from them
  // reads them only inside its WeightStore's pack function, which an engine's store never calls.
  const Tensor* constant_input(size_t i) const { return i < constant_inputs_.size() ? constant_inputs_[i] : nullptr; }
  // Where the kernel gets what it prepares from constant inputs (packed weights, padded biases).
  WeightStore& weights() const { return weights_; }

  bool has_attr(const std::string& name) const { return node_.attributes.count(name) != 0; }
  // Typed attribute getters: the first form throws when the attribute is missing, the second
  // returns the default. A present attribute of the wrong kind is always an InvalidModel error.
  int64_t attr_int(const std::string& name) const;
  int64_t attr_int(const std::string& name, int64_t fallback) const;
  float attr_float(const std::string& name) const;
  float attr_float(const std::string& name, float fallback) const;
  std::string attr_string(const std::string& name) const;
  std::string attr_string(const std::string& name, const std::string& fallback) const;
  std::vector<int64_t> attr_ints(const std::string& name) const;
  std::vector<int64_t> attr_ints(const std::string& name, const std::vector<int64_t>& fallback) const;
  std::vector<float> attr_floats(const std::string& name) const;
  std::vector<float> attr_floats(const std::string& name, const std::vector<float>& fallback) const;
  std::vector<std::string> attr_strings(const std::string& name, const std::vector<std::string>& fallback) const;
  Tensor attr_tensor(const std::string& name) const;

 private:
  template <class T>
  const T& get(const std::string& name) const;

  const ir::Node& node_;
  int64_t opset_;
  std::vector<DType> input_dtypes_;
  std::vector<const Tensor*> constant_inputs_;
  CpuLevel cpu_level_;
  WeightStore& weights_;
};

class KernelContext {
 public:
  // Outputs are allocated from `arena` when given (a session run), else from the heap.
  // `overwritable` are inputs no one reads after this kernel (OpKernel::may_write_output_into_input
  // said the kernel allows it): allocate_output hands one out as an output of its dtype and shape.
  KernelContext(std::span<const Tensor* const> inputs, std::span<Tensor* const> outputs, ThreadPool& pool,
                TensorArena* arena = nullptr, std::span<const Tensor* const> overwritable = {})
      : inputs_(inputs), outputs_(outputs), pool_(pool), arena_(arena), overwritable_(overwritable) {}

  size_t input_count() const { return inputs_.size(); }
  bool has_input(size_t i) const { return i < inputs_.size() && inputs_[i] != nullptr; }
  // Throws InvalidModel when a required input is absent.
  const Tensor& input(size_t i) const;
  size_t output_count() const { return outputs_.size(); }
  // Allocates output i with the given dtype and shape and returns it for writing.
  Tensor& allocate_output(size_t i, DType dtype, Shape shape);
  // Sets output i to an existing tensor (a zero-copy view such as Reshape's).
  void set_output(size_t i, Tensor value);
  ThreadPool& pool() const { return pool_; }

  // Whether output i's buffer came from the arena (allocate_output), so that a later kernel may
  // overwrite it; false for views and tensors a kernel made itself (set_output).
  bool output_in_arena(size_t i) const { return i < 64 && (in_arena_ >> i & 1) != 0; }
  // Outputs written over an input's buffer.
  int outputs_in_place() const { return in_place_; }

 private:
  Tensor& output_slot(size_t i) const;
  const Tensor* take_overwritable(DType dtype, const Shape& shape);

  std::span<const Tensor* const> inputs_;
  std::span<Tensor* const> outputs_;
  ThreadPool& pool_;
  TensorArena* arena_;
  std::span<const Tensor* const> overwritable_;
  uint64_t overwritten_ = 0;  // bit i: overwritable_[i] was handed out
  uint64_t in_arena_ = 0;     // bit i: output i is in the arena (outputs past 64 count as not)
  int in_place_ = 0;
};

class OpKernel {
 public:
  virtual ~OpKernel() = default;
  virtual void compute(KernelContext& ctx) const = 0;
  // Whether compute() reads the elements of input `input` when it is a constant, rather than
  // only its dtype and shape: false for weights a kernel packed at creation. The plan frees the
  // elements of an initializer that no kernel reads, so packed weights are not held twice.
  virtual bool reads_constant_data(size_t input) const {
    (void)input;
    return true;
  }
  // Whether an output of the input's dtype and shape may be written into input `input`'s buffer
  // while compute() still reads it: true for elementwise kernels that read each element before
  // writing the same position. The plan offers the buffer only when no one reads it afterwards.
  virtual bool may_write_output_into_input(size_t input) const {
    (void)input;
    return false;
  }
};

}  // namespace kiln::ops
