// Reading the integer lists that shape ops take as inputs or attributes (shapes, axes, starts,
// pads, repeats), with the checks every such op needs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ops/cpu/dispatch.h"
#include "ops/kernel.h"

namespace kiln::ops {

// The values of an int32/int64 input (shapes, axes, indices); InvalidModel for other dtypes.
inline std::vector<int64_t> int_list(const Tensor& t, const std::string& what) {
  if (t.dtype() != DType::Int64 && t.dtype() != DType::Int32)
    throw Error(ErrorCode::InvalidModel, what + " must be int64 or int32, got " + dtype_name(t.dtype()));
  return t.to_int64_vector();
}

// Input i as an integer list, or nullopt when the optional input is absent.
inline std::optional<std::vector<int64_t>> optional_int_list(const KernelContext& ctx, size_t i,
                                                             const std::string& what) {
  if (!ctx.has_input(i)) return std::nullopt;
  return int_list(ctx.input(i), what);
}

// Dims computed from user-given values (pads, repeats) must not overflow int64 on the way to the
// tensor size check.
inline int64_t checked_dim_add(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) throw Error(ErrorCode::InvalidArgument, "dimension overflows int64");
  return sum;
}
inline int64_t checked_dim_mul(int64_t a, int64_t b) {
  int64_t product = 0;
  if (__builtin_mul_overflow(a, b, &product)) throw Error(ErrorCode::InvalidArgument, "dimension overflows int64");
  return product;
}

// Dims [begin, end) of a shape, and their element count: ops see a tensor as [outer, axis, inner].
inline Shape dims_range(const Shape& shape, size_t begin, size_t end) {
  return Shape(shape.begin() + static_cast<std::ptrdiff_t>(begin), shape.begin() + static_cast<std::ptrdiff_t>(end));
}
inline int64_t dims_numel(const Shape& shape, size_t begin, size_t end) {
  return shape_numel(dims_range(shape, begin, end));
}

// Maps every axis into [0, rank) and rejects repeats.
inline std::vector<int64_t> normalize_axes(std::vector<int64_t> axes, int64_t rank) {
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (int64_t& a : axes) {
    a = normalize_axis(a, rank);
    if (seen[static_cast<size_t>(a)])
      throw Error(ErrorCode::InvalidModel, "axis " + std::to_string(a) + " is repeated");
    seen[static_cast<size_t>(a)] = true;
  }
  return axes;
}

// Where an op's axes moved from attribute to input at `input_since` (Squeeze, Unsqueeze, ReduceSum):
// the attribute before that opset, input `input` from it on. nullopt when neither is given.
class AxesArgument {
 public:
  AxesArgument(const KernelInfo& info, int64_t input_since, size_t input)
      : from_input_(info.opset() >= input_since), input_(input) {
    if (!from_input_ && info.has_attr("axes")) attribute_ = info.attr_ints("axes");
  }
  std::optional<std::vector<int64_t>> get(const KernelContext& ctx) const {
    return from_input_ ? optional_int_list(ctx, input_, "axes") : attribute_;
  }

 private:
  bool from_input_;
  size_t input_;
  std::optional<std::vector<int64_t>> attribute_;
};

}  // namespace kiln::ops
