#include "kernels/cpu/window_geometry.h"

namespace kiln::kernels {
namespace {

constexpr int64_t kMaxWindowValue = int64_t{1} << 24;

// `values`, or `fallback` repeated `count` times when empty; checks the length and the minimum.
std::vector<int64_t> per_dim(const std::vector<int64_t>& values, size_t count, int64_t fallback, int64_t minimum,
                             const char* name) {
  if (values.empty()) return std::vector<int64_t>(count, fallback);
  if (values.size() != count)
    throw Error(ErrorCode::InvalidModel, std::string(name) + " " + shape_to_string(values) + " has " +
                                             std::to_string(values.size()) + " values, expected " + std::to_string(count));
  for (int64_t v : values) {
    if (v < minimum)
      throw Error(ErrorCode::InvalidModel, std::string(name) + " " + shape_to_string(values) + " holds a value below " +
                                               std::to_string(minimum));
    // Larger values describe no real model, and products of them (dilated extents, padded sizes,
    // buffer sizes) would overflow.
    if (v > kMaxWindowValue)
      throw Error(ErrorCode::InvalidModel, std::string(name) + " " + shape_to_string(values) + " holds a value above " +
                                               std::to_string(kMaxWindowValue));
  }
  return values;
}

struct CheckedAttributes {
  std::vector<int64_t> kernel, strides, dilations, pads;
};

CheckedAttributes check_attributes(const Shape& input, const WindowAttributes& a) {
  const size_t rank = input.size();
  if (rank == 0) throw Error(ErrorCode::InvalidArgument, "input has no spatial dims");
  for (int64_t d : input)
    if (d <= 0) throw Error(ErrorCode::InvalidArgument, "input spatial dims " + shape_to_string(input) + " are empty");
  CheckedAttributes c;
  if (a.kernel.size() != rank)
    throw Error(ErrorCode::InvalidModel, "kernel_shape " + shape_to_string(a.kernel) + " does not match the " +
                                             std::to_string(rank) + " spatial dims of the input");
  c.kernel = per_dim(a.kernel, rank, 1, 1, "kernel_shape");
  c.strides = per_dim(a.strides, rank, 1, 1, "strides");
  c.dilations = per_dim(a.dilations, rank, 1, 1, "dilations");
  c.pads = per_dim(a.pads, 2 * rank, 0, 0, "pads");
  if (a.auto_pad != AutoPad::NotSet) std::fill(c.pads.begin(), c.pads.end(), 0);
  return c;
}

int64_t dilated_extent(int64_t kernel, int64_t dilation) { return (kernel - 1) * dilation + 1; }

}  // namespace

AutoPad parse_auto_pad(const std::string& value) {
  if (value == "NOTSET" || value.empty()) return AutoPad::NotSet;
  if (value == "SAME_UPPER") return AutoPad::SameUpper;
  if (value == "SAME_LOWER") return AutoPad::SameLower;
  if (value == "VALID") return AutoPad::Valid;
  throw Error(ErrorCode::InvalidModel, "unknown auto_pad '" + value + "'");
}

WindowGeometry make_window_geometry(const Shape& input, const WindowAttributes& attributes) {
  const auto [kernel, strides, dilations, pads] = check_attributes(input, attributes);
  const size_t rank = input.size();
  WindowGeometry g{input, Shape(rank), kernel, strides, dilations, std::vector<int64_t>(rank), std::vector<int64_t>(rank)};
  for (size_t d = 0; d < rank; ++d) {
    const int64_t extent = dilated_extent(kernel[d], dilations[d]);
    if (attributes.auto_pad == AutoPad::SameUpper || attributes.auto_pad == AutoPad::SameLower) {
      g.output[d] = (input[d] + strides[d] - 1) / strides[d];
      const int64_t total = std::max<int64_t>(0, (g.output[d] - 1) * strides[d] + extent - input[d]);
      const int64_t smaller = total / 2;
      g.pads_begin[d] = attributes.auto_pad == AutoPad::SameUpper ? smaller : total - smaller;
      g.pads_end[d] = total - g.pads_begin[d];
      continue;
    }
    g.pads_begin[d] = pads[d];
    g.pads_end[d] = pads[rank + d];
    const int64_t span = input[d] + g.pads_begin[d] + g.pads_end[d] - extent;
    if (span < 0)
      throw Error(ErrorCode::InvalidArgument, "the window (kernel_shape " + shape_to_string(kernel) + ", dilations " +
                                                  shape_to_string(dilations) + ") does not fit the padded input " +
                                                  shape_to_string(input));
    g.output[d] = (attributes.ceil_mode ? (span + strides[d] - 1) / strides[d] : span / strides[d]) + 1;
    // A window that would start in the end padding covers no input: ceil_mode never adds one.
    if (attributes.ceil_mode && (g.output[d] - 1) * strides[d] >= input[d] + g.pads_begin[d]) --g.output[d];
  }
  return g;
}

WindowGeometry make_transposed_window_geometry(const Shape& input, const WindowAttributes& attributes,
                                               const std::vector<int64_t>& output_padding,
                                               const std::vector<int64_t>& output_shape) {
  const auto [kernel, strides, dilations, pads] = check_attributes(input, attributes);
  const size_t rank = input.size();
  const std::vector<int64_t> adjust = per_dim(output_padding, rank, 0, 0, "output_padding");
  // Exporters write output_shape either as spatial dims or as the whole shape.
  std::vector<int64_t> requested = output_shape;
  if (requested.size() == rank + 2) requested.erase(requested.begin(), requested.begin() + 2);
  requested = per_dim(requested, rank, 0, 1, "output_shape");

  WindowGeometry g{Shape(rank), input, kernel, strides, dilations, std::vector<int64_t>(rank), std::vector<int64_t>(rank)};
  for (size_t d = 0; d < rank; ++d) {
    const int64_t natural = strides[d] * (input[d] - 1) + adjust[d] + dilated_extent(kernel[d], dilations[d]);
    const bool same = attributes.auto_pad == AutoPad::SameUpper || attributes.auto_pad == AutoPad::SameLower;
    if (!output_shape.empty() || same) {
      g.input[d] = output_shape.empty() ? input[d] * strides[d] : requested[d];
      // A requested size beyond the natural one is padded with bias-only positions at the end.
      const int64_t total = std::max<int64_t>(0, natural - g.input[d]);
      const int64_t smaller = total / 2;
      g.pads_begin[d] = attributes.auto_pad == AutoPad::SameUpper ? smaller : total - smaller;
      g.pads_end[d] = total - g.pads_begin[d];
    } else {
      g.pads_begin[d] = pads[d];
      g.pads_end[d] = pads[rank + d];
      g.input[d] = natural - g.pads_begin[d] - g.pads_end[d];
      if (g.input[d] <= 0)
        throw Error(ErrorCode::InvalidArgument, "pads " + shape_to_string(pads) + " leave an empty output for input " +
                                                    shape_to_string(input));
    }
  }
  return g;
}

}  // namespace kiln::kernels
