// Gather, GatherElements, GatherND, and the scatters ScatterElements (named Scatter in opsets 9-10)
// and ScatterND. Each op validates shapes and computes its offset list; kernels/cpu moves the data.
#include "kernels/cpu/element_bytes.h"
#include "kernels/cpu/gather_scatter_ref.h"
#include "ops/cpu/shape_args.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

Shape concat_shapes(Shape a, const Shape& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

void gather_into_output(KernelContext& ctx, const Tensor& data, const Shape& out_shape,
                        const std::vector<int64_t>& offsets, int64_t block) {
  Tensor& out = ctx.allocate_output(0, data.dtype(), out_shape);
  kernels::gather_blocks(out.raw(), data.raw(), dtype_size(data.dtype()), offsets, block, ctx.pool());
}

// GatherElements and ScatterElements need indices of the data's rank, no larger than the data off the axis.
void check_element_indices(const Tensor& data, const Tensor& indices, size_t axis) {
  bool valid = indices.rank() == data.rank();
  for (size_t d = 0; valid && d < data.rank(); ++d) valid = d == axis || indices.dim(d) <= data.dim(d);
  if (!valid)
    throw Error(ErrorCode::InvalidArgument, "indices of shape " + shape_to_string(indices.shape()) +
                                                " do not fit data of shape " + shape_to_string(data.shape()) +
                                                " along axis " + std::to_string(axis));
}

class GatherKernel final : public OpKernel {
 public:
  explicit GatherKernel(const KernelInfo& info) : axis_(info.attr_int("axis", 0)) {}
  void compute(KernelContext& ctx) const override {
    const Tensor& data = ctx.input(0);
    const Tensor& indices = ctx.input(1);
    const size_t axis = static_cast<size_t>(normalize_axis(axis_, static_cast<int64_t>(data.rank())));
    const Shape& s = data.shape();
    const int64_t inner = dims_numel(s, axis + 1, s.size());
    const auto offsets = kernels::gather_offsets(dims_numel(s, 0, axis), s[axis], inner, int_list(indices, "indices"));
    gather_into_output(
        ctx, data,
        concat_shapes(concat_shapes(dims_range(s, 0, axis), indices.shape()), dims_range(s, axis + 1, s.size())),
        offsets, inner);
  }

 private:
  int64_t axis_;
};
KILN_KERNEL(GatherKernel, {.op = "Gather", .since = 1});

class GatherElementsKernel final : public OpKernel {
 public:
  explicit GatherElementsKernel(const KernelInfo& info) : axis_(info.attr_int("axis", 0)) {}
  void compute(KernelContext& ctx) const override {
    const Tensor& data = ctx.input(0);
    const Tensor& indices = ctx.input(1);
    const size_t axis = static_cast<size_t>(normalize_axis(axis_, static_cast<int64_t>(data.rank())));
    check_element_indices(data, indices, axis);
    const auto offsets = kernels::element_offsets(data.shape(), indices.shape(), int_list(indices, "indices"), axis);
    gather_into_output(ctx, data, indices.shape(), offsets, 1);
  }

 private:
  int64_t axis_;
};
KILN_KERNEL(GatherElementsKernel, {.op = "GatherElements", .since = 11});

// The index tuples' length q: indices are [batch..., tuples..., q] selecting data[batch..., q dims].
int64_t nd_tuple_length(const Tensor& data, const Tensor& indices, int64_t batch_dims) {
  const int64_t data_rank = static_cast<int64_t>(data.rank()), index_rank = static_cast<int64_t>(indices.rank());
  bool valid = index_rank >= 1 && batch_dims >= 0 && batch_dims < std::min(data_rank, index_rank);
  for (size_t d = 0; valid && d < static_cast<size_t>(batch_dims); ++d) valid = data.dim(d) == indices.dim(d);
  const int64_t q = valid ? indices.shape().back() : -1;
  if (q < 0 || q > data_rank - batch_dims)
    throw Error(ErrorCode::InvalidArgument, "indices of shape " + shape_to_string(indices.shape()) +
                                                " do not index data of shape " + shape_to_string(data.shape()) +
                                                " with batch_dims " + std::to_string(batch_dims));
  return q;
}

class GatherNDKernel final : public OpKernel {
 public:
  explicit GatherNDKernel(const KernelInfo& info) : batch_dims_(info.attr_int("batch_dims", 0)) {}
  void compute(KernelContext& ctx) const override {
    const Tensor& data = ctx.input(0);
    const Tensor& indices = ctx.input(1);
    const size_t q = static_cast<size_t>(nd_tuple_length(data, indices, batch_dims_));
    const Shape slice = dims_range(data.shape(), static_cast<size_t>(batch_dims_) + q, data.rank());
    const auto offsets = kernels::nd_offsets(data.shape(), indices.shape(), int_list(indices, "indices"), batch_dims_);
    gather_into_output(ctx, data, concat_shapes(dims_range(indices.shape(), 0, indices.rank() - 1), slice), offsets,
                       shape_numel(slice));
  }

 private:
  int64_t batch_dims_;
};
KILN_KERNEL(GatherNDKernel, {.op = "GatherND", .since = 11});

enum class Reduction { None, Add, Mul, Max, Min };

Reduction parse_reduction(const KernelInfo& info) {
  const std::string r = info.attr_string("reduction", "none");
  if (r == "none") return Reduction::None;
  if (r == "add") return Reduction::Add;
  if (r == "mul") return Reduction::Mul;
  if (r == "max") return Reduction::Max;
  if (r == "min") return Reduction::Min;
  throw Error(ErrorCode::InvalidModel, "unknown reduction '" + r + "'");
}

// A copy of `data` with the update blocks combined in. Plain replacement moves bytes of any dtype;
// the reductions need arithmetic, so they take the numeric dtypes.
Tensor scattered(const Tensor& data, const Tensor& updates, const std::vector<int64_t>& offsets, int64_t block,
                 Reduction reduction) {
  if (updates.dtype() != data.dtype())
    throw Error(ErrorCode::InvalidModel,
                std::string("updates are ") + dtype_name(updates.dtype()) + ", data is " + dtype_name(data.dtype()));
  Tensor out = data.clone();
  if (reduction == Reduction::None) {
    kernels::dispatch_element_size(dtype_size(data.dtype()), [&](auto tag) {
      using E = typename decltype(tag)::type;
      kernels::scatter_blocks(static_cast<E*>(out.raw()), static_cast<const E*>(updates.raw()), offsets, block,
                              [](E, E update) { return update; });
    });
    return out;
  }
  dispatch_dtype<float, double, int32_t, int64_t, int8_t, uint8_t>(data.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    auto apply = [&](auto combine) {
      kernels::scatter_blocks(out.data<T>(), updates.data<T>(), offsets, block, combine);
    };
    switch (reduction) {
      case Reduction::Add: return apply([](T a, T b) { return static_cast<T>(a + b); });
      case Reduction::Mul: return apply([](T a, T b) { return static_cast<T>(a * b); });
      case Reduction::Max: return apply([](T a, T b) { return std::max(a, b); });
      case Reduction::Min: return apply([](T a, T b) { return std::min(a, b); });
      case Reduction::None: break;
    }
  });
  return out;
}

class ScatterElementsKernel final : public OpKernel {
 public:
  explicit ScatterElementsKernel(const KernelInfo& info)
      : axis_(info.attr_int("axis", 0)), reduction_(parse_reduction(info)) {}
  void compute(KernelContext& ctx) const override {
    const Tensor& data = ctx.input(0);
    const Tensor& indices = ctx.input(1);
    const Tensor& updates = ctx.input(2);
    const size_t axis = static_cast<size_t>(normalize_axis(axis_, static_cast<int64_t>(data.rank())));
    check_element_indices(data, indices, axis);
    if (updates.shape() != indices.shape())
      throw Error(ErrorCode::InvalidArgument, "updates of shape " + shape_to_string(updates.shape()) +
                                                  " differ from indices of shape " + shape_to_string(indices.shape()));
    const auto offsets = kernels::element_offsets(data.shape(), indices.shape(), int_list(indices, "indices"), axis);
    ctx.set_output(0, scattered(data, updates, offsets, 1, reduction_));
  }

 private:
  int64_t axis_;
  Reduction reduction_;
};
KILN_KERNEL(ScatterElementsKernel, {.op = "ScatterElements", .since = 11});
KILN_KERNEL(ScatterElementsKernel, {.op = "Scatter", .since = 9, .until = 10});

class ScatterNDKernel final : public OpKernel {
 public:
  explicit ScatterNDKernel(const KernelInfo& info) : reduction_(parse_reduction(info)) {}
  void compute(KernelContext& ctx) const override {
    const Tensor& data = ctx.input(0);
    const Tensor& indices = ctx.input(1);
    const Tensor& updates = ctx.input(2);
    const size_t q = static_cast<size_t>(nd_tuple_length(data, indices, 0));
    const Shape slice = dims_range(data.shape(), q, data.rank());
    const Shape expected = concat_shapes(dims_range(indices.shape(), 0, indices.rank() - 1), slice);
    if (updates.shape() != expected)
      throw Error(ErrorCode::InvalidArgument,
                  "updates must have shape " + shape_to_string(expected) + ", got " + shape_to_string(updates.shape()));
    const auto offsets = kernels::nd_offsets(data.shape(), indices.shape(), int_list(indices, "indices"), 0);
    ctx.set_output(0, scattered(data, updates, offsets, shape_numel(slice), reduction_));
  }

 private:
  Reduction reduction_;
};
KILN_KERNEL(ScatterNDKernel, {.op = "ScatterND", .since = 11});

}  // namespace
}  // namespace kiln::ops
