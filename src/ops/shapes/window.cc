// Sliding-window ops: convolutions and pooling over [N, C, spatial...]. The spatial output comes
// from the kernels' own window geometry, so inference and the run cannot disagree; it needs every
// spatial input dim static, and leaves the spatial dims unknown otherwise.
#include "ops/cpu/conv_shape.h"
#include "ops/cpu/window_attributes.h"
#include "ops/shapes/shape_context.h"

namespace kiln::ops::shapes {
namespace {

Dims unknown_dims(size_t count) { return Dims(count, Dim{}); }

// [N, channels, spatial output...] for input X of rank >= 3.
Dims window_output(const Dims& x, const Dim& channels, const std::optional<Shape>& spatial_output) {
  Dims y = {x[0], channels};
  const Dims spatial = spatial_output ? static_dims(*spatial_output) : unknown_dims(x.size() - 2);
  y.insert(y.end(), spatial.begin(), spatial.end());
  return y;
}

std::optional<Shape> static_spatial(const Dims& x) {
  const auto sizes = static_sizes(Dims(x.begin() + 2, x.end()));
  return sizes ? std::optional<Shape>(Shape(sizes->begin(), sizes->end())) : std::nullopt;
}

// Conv, kiln.FusedConv, ConvTranspose: W is [M, C / group, kernel...], transposed [C, M / group, kernel...].
template <bool kTransposed>
OutputShapes conv(const ShapeContext& ctx) {
  const MaybeDims &x = ctx.input(0), &w = ctx.input(1);
  if (!x || !w || x->size() < 3 || w->size() != x->size()) return {};
  const ConvAttributes attributes = read_conv_attributes(ctx.attributes());
  const Dim& w_out = (*w)[kTransposed ? 1 : 0];
  Dim channels = w_out;
  if (kTransposed && (!w_out.is_static() || __builtin_mul_overflow(w_out.size, attributes.groups, &channels.size)))
    channels = Dim{};
  kernels::WindowAttributes window = attributes.window;
  if (window.kernel.empty()) {
    const auto w_kernel = static_sizes(Dims(w->begin() + 2, w->end()));
    if (!w_kernel) return single(window_output(*x, channels, std::nullopt));
    window.kernel = *w_kernel;
  }
  std::optional<Shape> spatial = static_spatial(*x);
  if (spatial)
    spatial = kTransposed ? kernels::make_transposed_window_geometry(*spatial, window, attributes.output_padding,
                                                                     attributes.output_shape)
                                .input
                          : kernels::make_window_geometry(*spatial, window).output;
  return single(window_output(*x, channels, spatial));
}

// kiln.FusedConv adds its input 3 (a residual, broadcasting) to the convolution.
OutputShapes fused_conv(const ShapeContext& ctx) {
  OutputShapes y = conv<false>(ctx);
  if (y.empty() || !ctx.has_input(3)) return y;
  return ctx.input(3) ? single(broadcast({*y[0], *ctx.input(3)})) : OutputShapes{};
}

// MaxPool's Indices output has Y's shape.
OutputShapes pool(const ShapeContext& ctx) {
  const MaybeDims& x = ctx.input(0);
  if (!x || x->size() < 3) return {};
  std::optional<Shape> spatial = static_spatial(*x);
  if (spatial) spatial = kernels::make_window_geometry(*spatial, read_window_attributes(ctx.attributes())).output;
  const Dims y = window_output(*x, (*x)[1], spatial);
  return OutputShapes(ctx.output_count(), y);
}

OutputShapes global_pool(const ShapeContext& ctx) {
  const MaybeDims& x = ctx.input(0);
  if (!x || x->size() < 3) return {};
  return single(window_output(*x, (*x)[1], Shape(x->size() - 2, 1)));
}

}  // namespace

void add_window_shapes(ShapeTable& table) {
  table[{"", "Conv"}] = conv<false>;
  table[{"kiln", "FusedConv"}] = fused_conv;
  table[{"", "ConvTranspose"}] = conv<true>;
  for (const char* op : {"MaxPool", "AveragePool", "LpPool"}) table[{"", op}] = pool;
  for (const char* op : {"GlobalMaxPool", "GlobalAveragePool", "GlobalLpPool"}) table[{"", op}] = global_pool;
}

}  // namespace kiln::ops::shapes
