// nn::Parameter, a module's named tensor (nn/module.h), and the quantized codes a checkpoint may
// store it as.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "kernels/cpu/weight_matrix.h"
#include "kiln/tensor.h"

namespace kiln::llm::nn {

// A weight matrix as a checkpoint stores it quantized (GGUF's Q8_0 and Q4_0 blocks): its codes in
// the Int8 or Int4 row layout of kernels/cpu/weight_matrix.h, and one float scale per `group`
// inputs of a row.
struct StoredCodes {
  kernels::WeightFormat format = kernels::WeightFormat::Int8;
  int64_t rows = 0, cols = 0, group = 0;
  std::vector<uint8_t> codes;
  std::vector<float> scales;  // [rows, cols / group]

  kernels::WeightMatrixView view() const {
    return {.format = format, .rows = rows, .cols = cols, .group = group, .data = codes.data(), .scales = scales.data()};
  }
};

// A module's parameter: a tensor of a declared shape, held in memory or deferred to the source it
// was loaded from. A deferred parameter is read (and converted to its dtype) when prepare() or an
// accessor asks for its value, and let go again at the end of the prepare() that read it; what
// the forward pass reads lives in the prepared form. Not for concurrent use: forward passes do not
// read parameters.
class Parameter {
 public:
  explicit Parameter(Shape shape) : shape_(std::move(shape)) {}
  const Shape& shape() const { return shape_; }
  DType dtype() const { return dtype_; }  // Undefined until loaded
  bool deferred() const { return static_cast<bool>(read_); }
  // Undefined until loaded. Reading a deferred value throws what its source throws, and
  // Error(InvalidModel) naming the source and tensor when it gives another shape than it described.
  const Tensor& value() const;
  // The codes its source stores it as, when that is a quantized format (StateSource::codes) and the
  // parameter still has the source's values (to(DType) lets them go); nullopt otherwise. Read anew
  // at each call; Error(InvalidModel) naming the source and tensor when they are not the
  // parameter's shape.
  std::optional<StoredCodes> stored_codes() const;

 private:
  friend class Module;
  void hold(Tensor value);
  void defer(DType dtype, std::function<Tensor()> read, std::function<std::optional<StoredCodes>()> codes = {});
  void let_go() const;  // a deferred value only

  Shape shape_;
  DType dtype_ = DType::Undefined;
  mutable Tensor value_;
  std::function<Tensor()> read_;                              // set while deferred
  std::function<std::optional<StoredCodes>()> read_codes_;  // set while deferred to a quantized source
};

}  // namespace kiln::llm::nn
