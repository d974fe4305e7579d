// Ops that choose or join elements along axes: Concat, Split, Slice, Gather; and the ops whose
// outputs describe shapes: Shape, Size, ConstantOfShape.
#include <algorithm>
#include <limits>

#include "ops/shapes/shape_context.h"
#include "ops/shapes/shape_functions.h"

namespace kiln::ops::shapes {
namespace {

// The dim two inputs must share: a static size or a symbol where either has one; nullopt when
// their static sizes differ.
std::optional<Dim> agreed_dim(const Dim& a, const Dim& b) {
  if (a.is_static() && b.is_static() && a.size != b.size) return std::nullopt;
  if (a.is_static() || b.is_static()) return a.is_static() ? a : b;
  return a.symbol.empty() ? b : a;
}

OutputShapes concat(const ShapeContext& ctx) {
  if (ctx.input_count() == 0 || !ctx.input(0)) return {};
  Dims y = *ctx.input(0);
  const auto axis = normalize_axis(ctx.attributes().attr_int("axis"), y.size());
  if (!axis) return {};
  for (size_t i = 1; i < ctx.input_count(); ++i) {
    const MaybeDims& x = ctx.input(i);
    if (!x || x->size() != y.size()) return {};
    for (size_t d = 0; d < y.size(); ++d) {
      if (d == *axis) {
        const bool both_static = y[d].is_static() && (*x)[d].is_static();
        y[d] = both_static ? static_dim(y[d].size + (*x)[d].size) : Dim{};
        continue;
      }
      const auto agreed = agreed_dim(y[d], (*x)[d]);
      if (!agreed) return {};
      y[d] = *agreed;
    }
  }
  return single(y);
}

// The sizes of Split's outputs along the axis: given, or equal parts (the last one smaller from
// opset 18, when `num_outputs` does not divide the dim).
std::optional<std::vector<int64_t>> split_sizes(const ShapeContext& ctx, const Dim& dim) {
  const auto given = ctx.opset() < 13 ? std::optional(ctx.attributes().attr_ints("split", {}))
                     : ctx.has_input(1) ? ctx.constant_ints(1)
                                        : std::vector<int64_t>{};
  const auto parts = static_cast<int64_t>(ctx.output_count());
  if (!given || parts == 0) return std::nullopt;
  if (!given->empty()) return static_cast<int64_t>(given->size()) == parts ? given : std::nullopt;
  if (!dim.is_static()) return std::nullopt;
  const int64_t part = dim.size % parts == 0 || ctx.opset() < 18 ? dim.size / parts : dim.size / parts + 1;
  std::vector<int64_t> sizes(static_cast<size_t>(parts), part);
  sizes.back() = dim.size - part * (parts - 1);
  return sizes.back() < 0 || (ctx.opset() < 18 && dim.size % parts != 0) ? std::nullopt : std::optional(sizes);
}

OutputShapes split(const ShapeContext& ctx) {
  const MaybeDims& x = ctx.input(0);
  if (!x) return {};
  const auto axis = normalize_axis(ctx.attributes().attr_int("axis", 0), x->size());
  if (!axis) return {};
  const auto sizes = split_sizes(ctx, (*x)[*axis]);
  if (!sizes) return {};
  OutputShapes outputs;
  for (int64_t size : *sizes) {
    if (size < 0) return {};
    Dims y = *x;
    y[*axis] = static_dim(size);
    outputs.push_back(y);
  }
  return outputs;
}

// The length of [start, end) by `step` over a dim of `size`, with ONNX's clamping.
int64_t slice_length(int64_t size, int64_t start, int64_t end, int64_t step) {
  const auto clamp = [&](int64_t v, int64_t lo, int64_t hi) { return std::clamp(v < 0 ? v + size : v, lo, hi); };
  if (step > 0) {
    const int64_t distance = clamp(end, 0, size) - clamp(start, 0, size);
    return distance <= 0 ? 0 : 1 + (distance - 1) / step;
  }
  const int64_t distance = clamp(start, 0, size - 1) - clamp(end, -1, size - 1);
  const int64_t stride = step == std::numeric_limits<int64_t>::min() ? std::numeric_limits<int64_t>::max() : -step;
  return distance <= 0 ? 0 : 1 + (distance - 1) / stride;
}

OutputShapes slice(const ShapeContext& ctx) {
  const MaybeDims& x = ctx.input(0);
  if (!x) return {};
  const bool from_inputs = ctx.opset() >= 10;
  const auto list = [&](const char* attribute, size_t input) -> std::optional<std::vector<int64_t>> {
    if (!from_inputs) return ctx.attributes().attr_ints(attribute, {});
    return ctx.has_input(input) ? ctx.constant_ints(input) : std::vector<int64_t>{};
  };
  const auto starts = list("starts", 1), ends = list("ends", 2), given_axes = list("axes", 3);
  const auto given_steps = list("steps", 4);
  if (!starts || !ends || !given_axes || !given_steps || starts->size() != ends->size()) return {};
  std::vector<int64_t> axes = *given_axes, steps = *given_steps;
  if (axes.empty())
    for (size_t i = 0; i < starts->size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (steps.empty()) steps.assign(starts->size(), 1);
  const auto normalized = normalize_axes(axes, x->size());
  if (!normalized || normalized->size() != starts->size() || steps.size() != starts->size()) return {};
  Dims y = *x;
  for (size_t i = 0; i < starts->size(); ++i) {
    Dim& d = y[(*normalized)[i]];
    const int64_t start = (*starts)[i], end = (*ends)[i], step = steps[i];
    if (step == 0) return {};
    const bool whole = step == 1 && start == 0 && end == std::numeric_limits<int64_t>::max();
    if (d.is_static()) d = static_dim(slice_length(d.size, start, end, step));
    else if (!whole) d = Dim{};
  }
  return single(y);
}

OutputShapes gather(const ShapeContext& ctx) {
  const MaybeDims &data = ctx.input(0), &indices = ctx.input(1);
  if (!data || !indices) return {};
  const auto axis = normalize_axis(ctx.attributes().attr_int("axis", 0), data->size());
  if (!axis) return {};
  Dims y(data->begin(), data->begin() + static_cast<std::ptrdiff_t>(*axis));
  y.insert(y.end(), indices->begin(), indices->end());
  y.insert(y.end(), data->begin() + static_cast<std::ptrdiff_t>(*axis) + 1, data->end());
  return single(y);
}

OutputShapes shape(const ShapeContext& ctx) {
  const MaybeDims& x = ctx.input(0);
  if (!x) return {};
  const bool ranged = ctx.opset() >= 15;
  const KernelInfo& a = ctx.attributes();
  const auto [start, end] = shape_range(ranged ? std::optional(a.attr_int("start", 0)) : std::nullopt,
                                        ranged && a.has_attr("end") ? std::optional(a.attr_int("end")) : std::nullopt,
                                        x->size());
  return single(static_dims({static_cast<int64_t>(end - start)}));
}

OutputShapes size(const ShapeContext&) { return single(Dims{}); }

OutputShapes constant_of_shape(const ShapeContext& ctx) {
  const auto dims = ctx.constant_ints(0);
  if (!dims || std::any_of(dims->begin(), dims->end(), [](int64_t d) { return d < 0; })) return {};
  return single(static_dims(*dims));
}

}  // namespace

void add_indexing_shapes(ShapeTable& table) {
  table[{"", "Concat"}] = concat;
  table[{"", "Split"}] = split;
  table[{"", "Slice"}] = slice;
  table[{"", "Gather"}] = gather;
  table[{"", "Shape"}] = shape;
  table[{"", "Size"}] = size;
  table[{"", "ConstantOfShape"}] = constant_of_shape;
}

}  // namespace kiln::ops::shapes

namespace kiln::ops {

std::pair<size_t, size_t> shape_range(std::optional<int64_t> start, std::optional<int64_t> end, size_t rank) {
  const auto r = static_cast<int64_t>(rank);
  const auto clamp = [&](int64_t v) { return static_cast<size_t>(std::clamp(v < 0 ? v + r : v, int64_t{0}, r)); };
  const size_t first = clamp(start.value_or(0)), last = clamp(end.value_or(r));
  return {first, std::max(first, last)};
}

}  // namespace kiln::ops
