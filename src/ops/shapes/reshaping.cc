// Ops that rearrange dims without choosing elements: Reshape, Flatten, Transpose, Squeeze,
// Unsqueeze, Expand.
#include <algorithm>

#include "ops/shapes/shape_context.h"

namespace kiln::ops::shapes {
namespace {

// Reshape's -1: the input's element count over the other output dims'. Symbolic dims count when
// they cancel out (the same symbols on both sides), as in [batch, seq, 768] -> [0, 0, 12, -1].
Dim inferred_dim(const Dims& x, const Dims& others) {
  int64_t x_size = 1, others_size = 1;
  std::vector<std::string> x_symbols, other_symbols;
  const auto count = [](const Dims& dims, int64_t& size, std::vector<std::string>& symbols) {
    for (const Dim& d : dims) {
      if (!d.is_static() && d.symbol.empty()) return false;
      if (!d.is_static()) symbols.push_back(d.symbol);
      else if (__builtin_mul_overflow(size, d.size, &size)) return false;
    }
    std::sort(symbols.begin(), symbols.end());
    return true;
  };
  if (!count(x, x_size, x_symbols) || !count(others, others_size, other_symbols) || x_symbols != other_symbols ||
      others_size == 0 || x_size % others_size != 0)
    return Dim{};
  return static_dim(x_size / others_size);
}

OutputShapes reshape(const ShapeContext& ctx) {
  const auto target = ctx.opset() < 5 ? std::optional(ctx.attributes().attr_ints("shape")) : ctx.constant_ints(1);
  if (!target) return {};
  const bool allow_zero = ctx.attributes().attr_int("allowzero", 0) != 0;
  const MaybeDims& x = ctx.input(0);
  Dims y;
  std::optional<size_t> inferred;
  for (size_t i = 0; i < target->size(); ++i) {
    const int64_t t = (*target)[i];
    if (t == 0 && !allow_zero) {
      if (!x || i >= x->size()) return {};
      y.push_back((*x)[i]);
    } else if (t == -1) {
      if (inferred) return {};
      inferred = i;
      y.push_back(Dim{});
    } else if (t < 0) {
      return {};
    } else {
      y.push_back(static_dim(t));
    }
  }
  if (inferred && x) {
    Dims others = y;
    others.erase(others.begin() + static_cast<std::ptrdiff_t>(*inferred));
    y[*inferred] = inferred_dim(*x, others);
  }
  return single(y);
}

OutputShapes flatten(const ShapeContext& ctx) {
  const MaybeDims& x = ctx.input(0);
  if (!x) return {};
  const auto rank = static_cast<int64_t>(x->size());
  int64_t axis = ctx.attributes().attr_int("axis", 1);
  if (axis < -rank || axis > rank) return {};
  if (axis < 0) axis += rank;
  const auto split = x->begin() + axis;
  return single(Dims{product(Dims(x->begin(), split)), product(Dims(split, x->end()))});
}

OutputShapes transpose(const ShapeContext& ctx) {
  const MaybeDims& x = ctx.input(0);
  if (!x) return {};
  std::vector<int64_t> reversed(x->size());
  for (size_t i = 0; i < reversed.size(); ++i) reversed[i] = static_cast<int64_t>(reversed.size() - 1 - i);
  const std::vector<int64_t> perm = ctx.attributes().attr_ints("perm", reversed);
  if (perm.size() != x->size()) return {};
  const auto axes = normalize_axes(perm, x->size());
  if (!axes) return {};
  Dims y;
  for (size_t a : *axes) y.push_back((*x)[a]);
  return single(y);
}

OutputShapes squeeze(const ShapeContext& ctx) {
  const MaybeDims& x = ctx.input(0);
  const auto given = axes_argument(ctx, 13, 1);
  if (!x || !given) return {};
  const auto axes = normalize_axes(*given, x->size());
  if (!axes) return {};
  Dims y;
  for (size_t i = 0; i < x->size(); ++i) {
    const Dim& d = (*x)[i];
    const bool listed = std::find(axes->begin(), axes->end(), i) != axes->end();
    // Without axes every dim of size 1 goes, which an unknown dim may or may not be.
    if (given->empty() && !d.is_static()) return {};
    if (listed && d.is_static() && d.size != 1) return {};
    if (!(listed || (given->empty() && d.size == 1))) y.push_back(d);
  }
  return single(y);
}

OutputShapes unsqueeze(const ShapeContext& ctx) {
  const MaybeDims& x = ctx.input(0);
  const auto given = axes_argument(ctx, 13, 1);
  if (!x || !given || given->empty()) return {};
  const auto axes = normalize_axes(*given, x->size() + given->size());
  if (!axes) return {};
  Dims y;
  auto next = x->begin();
  for (size_t i = 0; i < x->size() + axes->size(); ++i)
    y.push_back(std::find(axes->begin(), axes->end(), i) != axes->end() ? static_dim(1) : *next++);
  return single(y);
}

OutputShapes expand(const ShapeContext& ctx) {
  const MaybeDims& x = ctx.input(0);
  const auto shape = ctx.constant_ints(1);
  if (!x || !shape || std::any_of(shape->begin(), shape->end(), [](int64_t d) { return d < 0; })) return {};
  return single(broadcast({*x, static_dims(*shape)}));
}

}  // namespace

void add_reshaping_shapes(ShapeTable& table) {
  table[{"", "Reshape"}] = reshape;
  table[{"", "Flatten"}] = flatten;
  table[{"", "Transpose"}] = transpose;
  table[{"", "Squeeze"}] = squeeze;
  table[{"", "Unsqueeze"}] = unsqueeze;
  table[{"", "Expand"}] = expand;
}

}  // namespace kiln::ops::shapes
