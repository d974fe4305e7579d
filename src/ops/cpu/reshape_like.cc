// Ops that change only the shape: Reshape, Flatten, Squeeze and Unsqueeze. The output is
// a zero-copy view of the input buffer (tensors are immutable once computed, so sharing is safe).
#include <algorithm>

#include "ops/cpu/shape_args.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

// Resolves Reshape's target: 0 copies the input dim (unless allowzero), one -1 takes what is left.
Shape resolve_reshape(const Shape& input, const std::vector<int64_t>& target, bool allow_zero) {
  Shape shape(target.begin(), target.end());
  int64_t inferred_axis = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0 && !allow_zero) {
      if (i >= input.size())
        throw Error(ErrorCode::InvalidArgument, "shape " + shape_to_string(target) + " copies dim " +
                                                    std::to_string(i) + " from input of shape " +
                                                    shape_to_string(input));
      shape[i] = input[i];
    }
    if (shape[i] == -1) {
      if (inferred_axis >= 0)
        throw Error(ErrorCode::InvalidArgument, "shape " + shape_to_string(target) + " has more than one -1");
      if (allow_zero && std::find(target.begin(), target.end(), 0) != target.end())
        throw Error(ErrorCode::InvalidArgument,
                    "shape " + shape_to_string(target) + " has both -1 and 0 with allowzero");
      inferred_axis = static_cast<int64_t>(i);
      continue;
    }
    if (shape[i] < 0)
      throw Error(ErrorCode::InvalidArgument, "shape " + shape_to_string(target) + " has a negative dim");
    known = checked_dim_mul(known, shape[i]);
  }
  if (inferred_axis >= 0) {
    const int64_t numel = shape_numel(input);
    if (known == 0 || numel % known != 0)
      throw Error(ErrorCode::InvalidArgument,
                  "cannot reshape " + shape_to_string(input) + " to " + shape_to_string(target));
    shape[static_cast<size_t>(inferred_axis)] = numel / known;
  }
  return shape;
}

class ReshapeKernel final : public OpKernel {
 public:
  explicit ReshapeKernel(const KernelInfo& info) : allow_zero_(info.attr_int("allowzero", 0) != 0) {}
  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    ctx.set_output(0, x.reshaped(resolve_reshape(x.shape(), int_list(ctx.input(1), "shape"), allow_zero_)));
  }

 private:
  bool allow_zero_;
};
KILN_KERNEL(ReshapeKernel, {.op = "Reshape", .since = 5});

class FlattenKernel final : public OpKernel {
 public:
  explicit FlattenKernel(const KernelInfo& info) : axis_(info.attr_int("axis", 1)) {}
  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const int64_t rank = static_cast<int64_t>(x.rank());
    // The axis may equal the rank (everything goes to the outer dim); negative counts from the rank.
    if (axis_ < -rank || axis_ > rank)
      throw Error(ErrorCode::InvalidModel,
                  "axis " + std::to_string(axis_) + " is out of range for rank " + std::to_string(rank));
    const size_t axis = static_cast<size_t>(axis_ < 0 ? axis_ + rank : axis_);
    const Shape& s = x.shape();
    ctx.set_output(0, x.reshaped({dims_numel(s, 0, axis), dims_numel(s, axis, s.size())}));
  }

 private:
  int64_t axis_;
};
KILN_KERNEL(FlattenKernel, {.op = "Flatten", .since = 1});

// Without axes, Squeeze removes every dim of size 1.
class SqueezeKernel final : public OpKernel {
 public:
  explicit SqueezeKernel(const KernelInfo& info) : axes_(info, 13, 1) {}
  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const int64_t rank = static_cast<int64_t>(x.rank());
    std::vector<bool> squeezed(x.rank(), false);
    if (const auto axes = axes_.get(ctx)) {
      for (int64_t a : normalize_axes(*axes, rank)) {
        if (x.dim(static_cast<size_t>(a)) != 1)
          throw Error(ErrorCode::InvalidArgument, "cannot squeeze axis " + std::to_string(a) + " of shape " +
                                                      shape_to_string(x.shape()) + ": its size is not 1");
        squeezed[static_cast<size_t>(a)] = true;
      }
    } else {
      for (size_t i = 0; i < x.rank(); ++i) squeezed[i] = x.dim(i) == 1;
    }
    Shape shape;
    for (size_t i = 0; i < x.rank(); ++i)
      if (!squeezed[i]) shape.push_back(x.dim(i));
    ctx.set_output(0, x.reshaped(std::move(shape)));
  }

 private:
  AxesArgument axes_;
};
KILN_KERNEL(SqueezeKernel, {.op = "Squeeze", .since = 1});

// Unsqueeze's axes index the output, so they are normalized against the output rank.
class UnsqueezeKernel final : public OpKernel {
 public:
  explicit UnsqueezeKernel(const KernelInfo& info) : axes_(info, 13, 1) {}
  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const auto axes = axes_.get(ctx);
    if (!axes) throw Error(ErrorCode::InvalidModel, "axes are required");
    const int64_t out_rank = static_cast<int64_t>(x.rank() + axes->size());
    std::vector<bool> inserted(static_cast<size_t>(out_rank), false);
    for (int64_t a : normalize_axes(*axes, out_rank)) inserted[static_cast<size_t>(a)] = true;
    Shape shape;
    size_t next_input_dim = 0;
    for (int64_t i = 0; i < out_rank; ++i)
      shape.push_back(inserted[static_cast<size_t>(i)] ? 1 : x.dim(next_input_dim++));
    ctx.set_output(0, x.reshaped(std::move(shape)));
  }

 private:
  AxesArgument axes_;
};
KILN_KERNEL(UnsqueezeKernel, {.op = "Unsqueeze", .since = 1});

}  // namespace
}  // namespace kiln::ops
