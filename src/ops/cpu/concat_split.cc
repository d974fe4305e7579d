// Concat and Split: the same block moves in opposite directions. Seen as [outer, axis, inner], for
// every outer index part k owns the next axis_k * inner contiguous elements of the whole.
#include <algorithm>
#include <cstring>
#include <numeric>

#include "ops/cpu/shape_args.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

// Calls copy(k, part_offset, whole_offset, bytes) for each block, in the whole's order.
template <class Copy>
void for_each_block(int64_t outer, const std::vector<int64_t>& part_bytes, Copy&& copy) {
  int64_t whole_offset = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (size_t k = 0; k < part_bytes.size(); ++k) {
      copy(k, o * part_bytes[k], whole_offset, part_bytes[k]);
      whole_offset += part_bytes[k];
    }
}

// Bytes of one block of a part with `axis_dim` entries along the axis.
int64_t block_bytes(const Shape& shape, size_t axis, int64_t axis_dim, DType dtype) {
  return axis_dim * dims_numel(shape, axis + 1, shape.size()) * static_cast<int64_t>(dtype_size(dtype));
}

// Before opset 4 the axis defaulted to 1; from 4 on it is required.
class ConcatKernel final : public OpKernel {
 public:
  explicit ConcatKernel(const KernelInfo& info)
      : axis_(info.opset() < 4 ? info.attr_int("axis", 1) : info.attr_int("axis")) {}
  void compute(KernelContext& ctx) const override {
    const Tensor& first = ctx.input(0);
    if (first.rank() == 0) throw Error(ErrorCode::InvalidArgument, "cannot concatenate scalars");
    const size_t axis = static_cast<size_t>(normalize_axis(axis_, static_cast<int64_t>(first.rank())));
    Shape out_shape = first.shape();
    out_shape[axis] = 0;
    std::vector<int64_t> part_bytes;
    for (size_t k = 0; k < ctx.input_count(); ++k) {
      const Tensor& in = ctx.input(k);
      bool matches = in.dtype() == first.dtype() && in.rank() == first.rank();
      for (size_t d = 0; matches && d < in.rank(); ++d) matches = d == axis || in.dim(d) == first.dim(d);
      if (!matches)
        throw Error(ErrorCode::InvalidArgument,
                    std::string("input ") + std::to_string(k) + " (" + dtype_name(in.dtype()) + " " +
                        shape_to_string(in.shape()) + ") does not match input 0 (" + dtype_name(first.dtype()) + " " +
                        shape_to_string(first.shape()) + ") outside axis " + std::to_string(axis));
      out_shape[axis] += in.dim(axis);
      part_bytes.push_back(block_bytes(in.shape(), axis, in.dim(axis), in.dtype()));
    }
    Tensor& out = ctx.allocate_output(0, first.dtype(), out_shape);
    auto* whole = static_cast<unsigned char*>(out.raw());
    for_each_block(dims_numel(out_shape, 0, axis), part_bytes, [&](size_t k, int64_t part, int64_t at, int64_t bytes) {
      std::memcpy(whole + at, static_cast<const unsigned char*>(ctx.input(k).raw()) + part, static_cast<size_t>(bytes));
    });
  }

 private:
  int64_t axis_;
};
KILN_KERNEL(ConcatKernel, {.op = "Concat", .since = 1});

// Split sizes come from input 1 (opset 1 and 13+) or the `split` attribute (2-12); without either
// the axis is split evenly among the outputs, where opset 18's num_outputs lets the last be smaller.
class SplitKernel final : public OpKernel {
 public:
  explicit SplitKernel(const KernelInfo& info)
      : axis_(info.attr_int("axis", 0)),
        split_attr_(info.attr_ints("split", {})),
        uneven_last_(info.opset() >= 18 && info.has_attr("num_outputs")) {
    if (info.node().outputs.empty()) throw Error(ErrorCode::InvalidModel, "Split needs at least one output");
    if (info.has_attr("num_outputs") &&
        info.attr_int("num_outputs") != static_cast<int64_t>(info.node().outputs.size()))
      throw Error(ErrorCode::InvalidModel, "num_outputs " + std::to_string(info.attr_int("num_outputs")) +
                                               " differs from the node's " +
                                               std::to_string(info.node().outputs.size()) + " outputs");
  }
  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const size_t axis = static_cast<size_t>(normalize_axis(axis_, static_cast<int64_t>(x.rank())));
    const std::vector<int64_t> sizes = split_sizes(ctx, x.dim(axis));
    std::vector<int64_t> part_bytes;
    std::vector<unsigned char*> parts;
    for (size_t k = 0; k < sizes.size(); ++k) {
      Shape shape = x.shape();
      shape[axis] = sizes[k];
      parts.push_back(static_cast<unsigned char*>(ctx.allocate_output(k, x.dtype(), shape).raw()));
      part_bytes.push_back(block_bytes(x.shape(), axis, sizes[k], x.dtype()));
    }
    const auto* whole = static_cast<const unsigned char*>(x.raw());
    for_each_block(dims_numel(x.shape(), 0, axis), part_bytes, [&](size_t k, int64_t part, int64_t at, int64_t bytes) {
      std::memcpy(parts[k] + part, whole + at, static_cast<size_t>(bytes));
    });
  }

 private:
  std::vector<int64_t> split_sizes(const KernelContext& ctx, int64_t dim) const {
    const int64_t count = static_cast<int64_t>(ctx.output_count());
    std::vector<int64_t> sizes = ctx.has_input(1) ? int_list(ctx.input(1), "split") : split_attr_;
    if (sizes.empty()) {
      const int64_t chunk = uneven_last_ ? (dim + count - 1) / count : dim / count;
      if (!uneven_last_ && dim % count != 0)
        throw Error(ErrorCode::InvalidArgument, "axis of size " + std::to_string(dim) +
                                                    " cannot be split evenly into " + std::to_string(count) +
                                                    " outputs");
      for (int64_t k = 0, left = dim; k < count; ++k, left -= chunk)
        sizes.push_back(std::clamp<int64_t>(left, 0, chunk));
    }
    if (static_cast<int64_t>(sizes.size()) != count)
      throw Error(ErrorCode::InvalidModel,
                  "split has " + std::to_string(sizes.size()) + " sizes for " + std::to_string(count) + " outputs");
    const bool valid = std::all_of(sizes.begin(), sizes.end(), [dim](int64_t s) { return s >= 0 && s <= dim; }) &&
                       std::accumulate(sizes.begin(), sizes.end(), int64_t{0}) == dim;
    if (!valid)
      throw Error(ErrorCode::InvalidArgument,
                  "split sizes " + shape_to_string(sizes) + " do not add up to the axis size " + std::to_string(dim));
    return sizes;
  }

  int64_t axis_;
  std::vector<int64_t> split_attr_;
  bool uneven_last_;
};
KILN_KERNEL(SplitKernel, {.op = "Split", .since = 1});

}  // namespace
}  // namespace kiln::ops
