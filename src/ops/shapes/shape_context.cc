#include "ops/shapes/shape_context.h"

#include <algorithm>

namespace kiln::ops::shapes {

const MaybeDims& ShapeContext::input(size_t i) const {
  static const MaybeDims unknown;
  return has_input(i) && i < query_.inputs.size() ? query_.inputs[i] : unknown;
}

std::optional<std::vector<int64_t>> ShapeContext::constant_ints(size_t i) const {
  const Tensor* t = has_input(i) ? constant(i) : nullptr;
  if (!t || (t->dtype() != DType::Int64 && t->dtype() != DType::Int32) || (t->numel() > 0 && !t->raw()))
    return std::nullopt;
  return t->to_int64_vector();
}

Dims static_dims(const std::vector<int64_t>& sizes) {
  Dims dims;
  for (int64_t s : sizes) dims.push_back(static_dim(s));
  return dims;
}

std::optional<std::vector<int64_t>> static_sizes(const Dims& dims) {
  std::vector<int64_t> sizes;
  for (const Dim& d : dims) {
    if (!d.is_static()) return std::nullopt;
    sizes.push_back(d.size);
  }
  return sizes;
}

bool same_dim(const Dim& a, const Dim& b) {
  if (a.is_static() || b.is_static()) return a.size == b.size;
  return !a.symbol.empty() && a.symbol == b.symbol;
}

namespace {

// The broadcast of the dims that meet at one position (missing ones count as 1).
std::optional<Dim> broadcast_dim(const std::vector<const Dim*>& dims) {
  std::optional<int64_t> size;
  for (const Dim* d : dims) {
    if (!d->is_static() || d->size == 1) continue;
    if (size && *size != d->size) return std::nullopt;
    size = d->size;
  }
  if (size) return static_dim(*size);
  const Dim* unknown = nullptr;
  for (const Dim* d : dims) {
    if (d->is_static()) continue;
    if (unknown && !same_dim(*unknown, *d)) return Dim{};
    unknown = d;
  }
  return unknown ? *unknown : static_dim(1);
}

}  // namespace

MaybeDims broadcast(const std::vector<Dims>& shapes) {
  size_t rank = 0;
  for (const Dims& s : shapes) rank = std::max(rank, s.size());
  Dims result(rank);
  for (size_t i = 0; i < rank; ++i) {
    std::vector<const Dim*> meeting;
    for (const Dims& s : shapes)
      if (i + s.size() >= rank) meeting.push_back(&s[i + s.size() - rank]);
    const auto dim = broadcast_dim(meeting);
    if (!dim) return std::nullopt;
    result[i] = *dim;
  }
  return result;
}

Dim product(const Dims& dims) {
  if (dims.size() == 1) return dims[0];
  int64_t size = 1;
  for (const Dim& d : dims) {
    if (!d.is_static() || __builtin_mul_overflow(size, d.size, &size)) return Dim{};
  }
  return static_dim(size);
}

std::optional<size_t> normalize_axis(int64_t axis, size_t rank) {
  const auto r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r) return std::nullopt;
  return static_cast<size_t>(axis < 0 ? axis + r : axis);
}

std::optional<std::vector<size_t>> normalize_axes(const std::vector<int64_t>& axes, size_t rank) {
  std::vector<size_t> result;
  for (int64_t a : axes) {
    const auto axis = normalize_axis(a, rank);
    if (!axis || std::find(result.begin(), result.end(), *axis) != result.end()) return std::nullopt;
    result.push_back(*axis);
  }
  return result;
}

std::optional<std::vector<int64_t>> axes_argument(const ShapeContext& ctx, int64_t input_since, size_t input) {
  if (ctx.opset() < input_since) return ctx.attributes().attr_ints("axes", {});
  if (!ctx.has_input(input)) return std::vector<int64_t>{};
  return ctx.constant_ints(input);
}

}  // namespace kiln::ops::shapes
