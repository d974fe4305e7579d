// Pad: attributes pads/value up to opset 10; from 11 inputs pads and constant_value, from 18 an axes
// input. Modes constant, reflect, edge and (opset 19) wrap. Negative pads crop.
#include <cstring>

#include "kernels/cpu/strided_copy.h"
#include "ops/cpu/shape_args.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

enum class PadMode { Constant, Reflect, Edge, Wrap };

PadMode parse_pad_mode(const std::string& mode) {
  if (mode == "constant") return PadMode::Constant;
  if (mode == "reflect") return PadMode::Reflect;
  if (mode == "edge") return PadMode::Edge;
  if (mode == "wrap") return PadMode::Wrap;
  throw Error(ErrorCode::InvalidModel, "unknown pad mode '" + mode + "'");
}

// The input coordinate an output coordinate reads, for a coordinate c = i - pad_begin that may lie
// outside [0, dim). Reflect mirrors without repeating the edge, as numpy.pad does, repeatedly if
// the pad is wider than the axis.
int64_t pad_source(int64_t c, int64_t dim, PadMode mode) {
  if (c >= 0 && c < dim) return c;
  switch (mode) {
    case PadMode::Constant: return kernels::kFillCoordinate;
    case PadMode::Edge: return c < 0 ? 0 : dim - 1;
    case PadMode::Wrap: return (c % dim + dim) % dim;
    case PadMode::Reflect: {
      if (dim == 1) return 0;
      const int64_t period = 2 * (dim - 1);
      const int64_t m = (c % period + period) % period;
      return m < dim ? m : period - m;
    }
  }
  return kernels::kFillCoordinate;
}

// Writes `value` as one element of `dtype` into `out` (opset < 11 gives the pad value as a float).
void convert_fill_value(double value, DType dtype, void* out) {
  dispatch_dtype<float, double, int8_t, uint8_t, int16_t, uint16_t, int32_t, uint32_t, int64_t, uint64_t, bool>(
      dtype, [&](auto tag) {
        using T = typename decltype(tag)::type;
        *static_cast<T*>(out) = static_cast<T>(value);
      });
}

class PadKernel final : public OpKernel {
 public:
  explicit PadKernel(const KernelInfo& info)
      : mode_(parse_pad_mode(info.attr_string("mode", "constant"))),
        from_inputs_(info.opset() >= 11),
        axes_from_input_(info.opset() >= 18),
        pads_attr_(from_inputs_ ? std::vector<int64_t>{} : info.attr_ints("pads")),
        value_attr_(info.attr_float("value", 0.f)) {}

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const int64_t rank = static_cast<int64_t>(x.rank());
    const std::vector<int64_t> pads = from_inputs_ ? int_list(ctx.input(1), "pads") : pads_attr_;
    std::vector<int64_t> axes;
    if (const auto given = axes_from_input_ ? optional_int_list(ctx, 3, "axes") : std::nullopt) {
      axes = normalize_axes(*given, rank);
    } else {
      for (int64_t a = 0; a < rank; ++a) axes.push_back(a);
    }
    if (pads.size() != 2 * axes.size())
      throw Error(ErrorCode::InvalidModel, "pads " + shape_to_string(pads) +
                                               " must hold a begin and an end for each of " +
                                               std::to_string(axes.size()) + " axes");

    std::vector<int64_t> begin(x.rank(), 0), end(x.rank(), 0);
    for (size_t i = 0; i < axes.size(); ++i) {
      begin[static_cast<size_t>(axes[i])] = pads[i];
      end[static_cast<size_t>(axes[i])] = pads[i + axes.size()];
    }
    Shape out_shape;
    for (size_t d = 0; d < x.rank(); ++d) {
      out_shape.push_back(checked_dim_add(checked_dim_add(x.dim(d), begin[d]), end[d]));
      if (out_shape[d] < 0)
        throw Error(ErrorCode::InvalidArgument, "pads " + shape_to_string(pads) + " crop axis " + std::to_string(d) +
                                                    " of " + shape_to_string(x.shape()) + " below zero");
      if (x.dim(d) == 0 && out_shape[d] > 0 && mode_ != PadMode::Constant)
        throw Error(ErrorCode::InvalidArgument, "cannot pad an empty axis except in constant mode");
    }
    alignas(8) unsigned char fill[8] = {};
    fill_element(ctx, x.dtype(), fill);
    // Allocated before the index maps so that an oversized output is rejected first.
    Tensor& out = ctx.allocate_output(0, x.dtype(), out_shape);
    const std::vector<int64_t> strides = kernels::dense_strides(x.shape());
    std::vector<kernels::AxisSource> sources;
    for (size_t d = 0; d < x.rank(); ++d) {
      kernels::AxisSource axis{strides[d], std::vector<int64_t>(static_cast<size_t>(out_shape[d]))};
      for (int64_t i = 0; i < out_shape[d]; ++i)
        axis.source[static_cast<size_t>(i)] = pad_source(i - begin[d], x.dim(d), mode_);
      sources.push_back(std::move(axis));
    }
    kernels::strided_copy(out.raw(), x.raw(), dtype_size(x.dtype()), sources, fill, ctx.pool());
  }

 private:
  void fill_element(const KernelContext& ctx, DType dtype, unsigned char* fill) const {
    if (mode_ != PadMode::Constant) return;
    if (!from_inputs_) return convert_fill_value(value_attr_, dtype, fill);
    if (!ctx.has_input(2)) return;
    const Tensor& value = ctx.input(2);
    if (value.dtype() != dtype)
      throw Error(ErrorCode::InvalidModel,
                  std::string("constant_value is ") + dtype_name(value.dtype()) + ", the data is " + dtype_name(dtype));
    if (value.numel() > 1) throw Error(ErrorCode::InvalidModel, "constant_value must hold one element");
    if (value.numel() == 1) std::memcpy(fill, value.raw(), value.nbytes());
  }

  PadMode mode_;
  bool from_inputs_;
  bool axes_from_input_;
  std::vector<int64_t> pads_attr_;
  float value_attr_;
};
KILN_KERNEL(PadKernel, {.op = "Pad", .since = 2});

}  // namespace
}  // namespace kiln::ops
