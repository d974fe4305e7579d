// Slice: attributes starts/ends/axes up to opset 9; from opset 10 inputs starts, ends, axes, steps,
// with negative steps. Out-of-range bounds are clamped as numpy does.
#include <algorithm>
#include <cstdint>
#include <numeric>

#include "kernels/cpu/strided_copy.h"
#include "ops/cpu/shape_args.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

// Output coordinates of one sliced axis: start, start + step, ... stopping before end.
std::vector<int64_t> slice_coordinates(int64_t start, int64_t end, int64_t step, int64_t dim) {
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
  } else {
    start = std::clamp<int64_t>(start, 0, dim - 1);
    end = std::clamp<int64_t>(end, -1, dim - 1);
  }
  // Counted rather than stepped so that a huge step cannot overflow.
  const int64_t count = step > 0 ? (end > start ? 1 + (end - start - 1) / step : 0)
                                 : (start > end ? 1 + (start - end - 1) / -std::max(step, -INT64_MAX) : 0);
  std::vector<int64_t> coords(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) coords[static_cast<size_t>(i)] = start + i * step;
  return coords;
}

class SliceKernel final : public OpKernel {
 public:
  explicit SliceKernel(const KernelInfo& info) : from_inputs_(info.opset() >= 10) {
    if (!from_inputs_) {
      starts_ = info.attr_ints("starts");
      ends_ = info.attr_ints("ends");
      if (info.has_attr("axes")) axes_ = info.attr_ints("axes");
    }
  }
  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const std::vector<int64_t> starts = from_inputs_ ? int_list(ctx.input(1), "starts") : starts_;
    const std::vector<int64_t> ends = from_inputs_ ? int_list(ctx.input(2), "ends") : ends_;
    std::optional<std::vector<int64_t>> axes = from_inputs_ ? optional_int_list(ctx, 3, "axes") : axes_;
    const std::optional<std::vector<int64_t>> steps = from_inputs_ ? optional_int_list(ctx, 4, "steps") : std::nullopt;
    if (!axes) {
      axes.emplace(starts.size());
      std::iota(axes->begin(), axes->end(), 0);
    }
    if (ends.size() != starts.size() || axes->size() != starts.size() || (steps && steps->size() != starts.size()))
      throw Error(ErrorCode::InvalidModel, "starts, ends, axes and steps must have the same length");
    const std::vector<int64_t> strides = kernels::dense_strides(x.shape());
    std::vector<kernels::AxisSource> sources;
    for (size_t d = 0; d < x.rank(); ++d) sources.push_back(kernels::identity_axis(x.dim(d), strides[d]));
    const std::vector<int64_t> normalized = normalize_axes(*axes, static_cast<int64_t>(x.rank()));
    for (size_t i = 0; i < normalized.size(); ++i) {
      const int64_t step = steps ? (*steps)[i] : 1;
      if (step == 0) throw Error(ErrorCode::InvalidArgument, "slice step must not be 0");
      const size_t axis = static_cast<size_t>(normalized[i]);
      sources[axis].source = slice_coordinates(starts[i], ends[i], step, x.dim(axis));
    }
    Tensor& out = ctx.allocate_output(0, x.dtype(), kernels::output_shape(sources));
    kernels::strided_copy(out.raw(), x.raw(), dtype_size(x.dtype()), sources, nullptr, ctx.pool());
  }

 private:
  bool from_inputs_;
  std::vector<int64_t> starts_, ends_;
  std::optional<std::vector<int64_t>> axes_;
};
KILN_KERNEL(SliceKernel, {.op = "Slice", .since = 1});

}  // namespace
}  // namespace kiln::ops
