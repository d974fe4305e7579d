// Ops that make tensors from attributes: Constant (the value itself), ConstantOfShape (one value
// repeated over a shape given as input) and EyeLike (ones on a diagonal of an input's shape).
#include <algorithm>
#include <cstring>

#include "ops/cpu/cast.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

// Exactly one of Constant's value attributes is set; which ones exist depends on the opset, and
// the ONNX checker enforces that, so all are read here.
Tensor constant_value(const KernelInfo& info) {
  const char* names[] = {"value", "value_float", "value_floats", "value_int", "value_ints", "value_string",
                         "value_strings", "sparse_value"};
  int set = 0;
  for (const char* name : names) set += info.has_attr(name) ? 1 : 0;
  if (set != 1)
    throw Error(ErrorCode::InvalidModel, "exactly one value attribute must be set, got " + std::to_string(set));
  if (info.has_attr("value")) return info.attr_tensor("value");
  if (info.has_attr("value_float")) return Tensor::scalar(info.attr_float("value_float"));
  if (info.has_attr("value_int")) return Tensor::scalar(info.attr_int("value_int"));
  if (info.has_attr("value_floats")) {
    const auto values = info.attr_floats("value_floats");
    return Tensor::from_vector({static_cast<int64_t>(values.size())}, values);
  }
  if (info.has_attr("value_ints")) {
    const auto values = info.attr_ints("value_ints");
    return Tensor::from_vector({static_cast<int64_t>(values.size())}, values);
  }
  throw Error(ErrorCode::NotImplemented, "string and sparse constants are not supported");
}

// The output shares the attribute's buffer, as initializers are shared with every run.
class ConstantKernel final : public OpKernel {
 public:
  explicit ConstantKernel(const KernelInfo& info) : value_(constant_value(info)) {}
  void compute(KernelContext& ctx) const override { ctx.set_output(0, value_); }

 private:
  const Tensor value_;
};

class ConstantOfShapeKernel final : public OpKernel {
 public:
  explicit ConstantOfShapeKernel(const KernelInfo& info)
      : value_(info.has_attr("value") ? info.attr_tensor("value") : Tensor::scalar(0.f)) {
    if (value_.numel() != 1)
      throw Error(ErrorCode::InvalidModel, "attribute 'value' must hold one element, got shape " +
                                               shape_to_string(value_.shape()));
  }

  void compute(KernelContext& ctx) const override {
    const Tensor& shape = ctx.input(0);
    if (shape.dtype() != DType::Int64 || shape.rank() != 1)
      throw Error(ErrorCode::InvalidModel, std::string("input must be a 1-D int64 shape, got ") +
                                               dtype_name(shape.dtype()) + " " + shape_to_string(shape.shape()));
    Tensor& out = ctx.allocate_output(0, value_.dtype(), shape.to_int64_vector());
    // Copying the value's bytes fills any dtype without dispatching on it.
    const size_t size = dtype_size(value_.dtype());
    auto* bytes = static_cast<char*>(out.raw());
    for (int64_t i = 0; i < out.numel(); ++i) std::memcpy(bytes + static_cast<size_t>(i) * size, value_.raw(), size);
  }

 private:
  const Tensor value_;
};

// Output dtype: the `dtype` attribute when set, else the input's. Ones go on the diagonal k places
// above the main one (below for negative k).
class EyeLikeKernel final : public OpKernel {
 public:
  explicit EyeLikeKernel(const KernelInfo& info)
      : dtype_(info.has_attr("dtype") ? dtype_attribute(info, "dtype") : DType::Undefined), k_(info.attr_int("k", 0)) {}

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    if (x.rank() != 2) throw Error(ErrorCode::InvalidArgument, "input must be 2-D, got shape " + shape_to_string(x.shape()));
    Tensor eye = Tensor::zeros(DType::Bool, x.shape());
    bool* data = eye.data<bool>();
    const int64_t rows = x.dim(0), cols = x.dim(1);
    // Checking k against the bounds first keeps r + k and -k from overflowing for a huge k.
    if (k_ < cols && k_ > -rows)
      for (int64_t r = std::max<int64_t>(0, -k_); r < rows && r + k_ < cols; ++r) data[r * cols + r + k_] = true;
    ctx.set_output(0, cast_tensor(eye, dtype_ == DType::Undefined ? x.dtype() : dtype_, ctx.pool()));
  }

 private:
  const DType dtype_;
  const int64_t k_;
};

KILN_KERNEL(ConstantKernel, {.op = "Constant", .since = 1});
KILN_KERNEL(ConstantOfShapeKernel, {.op = "ConstantOfShape", .since = 9});
KILN_KERNEL(EyeLikeKernel, {.op = "EyeLike", .since = 9});

}  // namespace
}  // namespace kiln::ops
