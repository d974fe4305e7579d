// Reductions over axes: the Reduce* family (axes an attribute, or from opset 18 (ReduceSum: 13)
// an input) and ArgMax/ArgMin (one axis attribute).
#include <algorithm>
#include <numeric>

#include "ops/shapes/shape_context.h"

namespace kiln::ops::shapes {
namespace {

Dims reduced(const Dims& x, const std::vector<size_t>& axes, bool keep_dims) {
  Dims y;
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::find(axes.begin(), axes.end(), i) == axes.end()) y.push_back(x[i]);
    else if (keep_dims) y.push_back(static_dim(1));
  }
  return y;
}

OutputShapes reduce(const ShapeContext& ctx) {
  const MaybeDims& x = ctx.input(0);
  const int64_t axes_input_since = ctx.node().op_type == "ReduceSum" ? 13 : 18;
  const auto given = axes_argument(ctx, axes_input_since, 1);
  if (!x || !given) return {};
  const bool keep_dims = ctx.attributes().attr_int("keepdims", 1) != 0;
  if (given->empty() && ctx.attributes().attr_int("noop_with_empty_axes", 0) != 0) return single(*x);
  auto axes = normalize_axes(*given, x->size());
  if (given->empty()) {  // every axis
    axes = std::vector<size_t>(x->size());
    std::iota(axes->begin(), axes->end(), size_t{0});
  }
  if (!axes) return {};
  return single(reduced(*x, *axes, keep_dims));
}

OutputShapes arg_reduce(const ShapeContext& ctx) {
  const MaybeDims& x = ctx.input(0);
  if (!x) return {};
  const auto axis = normalize_axis(ctx.attributes().attr_int("axis", 0), x->size());
  if (!axis) return {};
  return single(reduced(*x, {*axis}, ctx.attributes().attr_int("keepdims", 1) != 0));
}

}  // namespace

void add_reduction_shapes(ShapeTable& table) {
  for (const char* op : {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
                         "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"})
    table[{"", op}] = reduce;
  table[{"", "ArgMax"}] = arg_reduce;
  table[{"", "ArgMin"}] = arg_reduce;
}

}  // namespace kiln::ops::shapes
