// The geometry shared by convolution and pooling: a window of `kernel` taps, spaced `dilations`
// apart, slides over the padded spatial dims of an input with step `strides`. Spatial dims only;
// batch and channel dims are the caller's business.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "kiln/tensor.h"

namespace kiln::kernels {

enum class AutoPad { NotSet, SameUpper, SameLower, Valid };

// Parses an ONNX auto_pad attribute value; throws InvalidModel on an unknown one.
AutoPad parse_auto_pad(const std::string& value);

struct WindowGeometry {
  Shape input;   // spatial dims the window slides over
  Shape output;  // window positions per dim
  std::vector<int64_t> kernel, strides, dilations;
  std::vector<int64_t> pads_begin, pads_end;

  size_t rank() const { return input.size(); }
  int64_t input_size() const { return shape_numel(input); }
  int64_t output_size() const { return shape_numel(output); }
  int64_t kernel_size() const { return shape_numel(kernel); }
};

struct WindowAttributes {
  std::vector<int64_t> kernel;     // required
  std::vector<int64_t> strides;    // empty: all 1
  std::vector<int64_t> dilations;  // empty: all 1
  std::vector<int64_t> pads;       // ONNX layout [begin..., end...]; empty: all 0
  AutoPad auto_pad = AutoPad::NotSet;
  bool ceil_mode = false;
};

// The geometry of a convolution or pooling over `input` (spatial dims). Validates the attributes'
// lengths and values and that the output is not empty; throws InvalidArgument or InvalidModel.
WindowGeometry make_window_geometry(const Shape& input, const WindowAttributes& attributes);

// The geometry of a transposed convolution of `input` (spatial dims), seen as the convolution it
// is the adjoint of: the result's `input` holds the ConvTranspose output dims and its `output`
// holds `input`. `output_shape` (empty if absent; spatial dims) overrides the computed size.
WindowGeometry make_transposed_window_geometry(const Shape& input, const WindowAttributes& attributes,
                                               const std::vector<int64_t>& output_padding,
                                               const std::vector<int64_t>& output_shape);

// Calls fn(first_column, count, input_offset, input_step) for every run of window positions whose
// tap at `kernel_index` (one index per dim) falls inside the input: positions first_column ..
// first_column + count - 1 (row-major over `output`) read the input at input_offset + i * input_step
// (row-major over `input`). Taps in the padding are skipped. im2col and col2im both walk this.
template <class F>
void for_each_tap_run(const WindowGeometry& g, const int64_t* kernel_index, F&& fn) {
  const size_t rank = g.rank();
  const size_t last = rank - 1;
  std::vector<int64_t> input_strides(rank, 1);
  for (size_t d = last; d-- > 0;) input_strides[d] = input_strides[d + 1] * g.input[d + 1];

  // Positions o along the last dim read input coordinate first + o * step; keep those in [0, n).
  const int64_t step = g.strides[last];
  const int64_t first = kernel_index[last] * g.dilations[last] - g.pads_begin[last];
  const int64_t n = g.input[last];
  const int64_t lo = first >= 0 ? 0 : (-first + step - 1) / step;
  const int64_t hi = first >= n ? 0 : std::min(g.output[last], (n - first + step - 1) / step);

  const int64_t inner = g.output[last];
  const int64_t outer_count = inner == 0 ? 0 : g.output_size() / inner;
  std::vector<int64_t> position(rank, 0);  // odometer over the outer output dims
  for (int64_t outer = 0; outer < outer_count; ++outer) {
    bool inside = hi > lo;
    int64_t base = 0;
    for (size_t d = 0; d < last && inside; ++d) {
      const int64_t c = position[d] * g.strides[d] + kernel_index[d] * g.dilations[d] - g.pads_begin[d];
      inside = c >= 0 && c < g.input[d];
      base += c * input_strides[d];
    }
    if (inside) fn(outer * inner + lo, hi - lo, base + first + lo * step, step);
    for (size_t d = last; d-- > 0;) {
      if (++position[d] < g.output[d]) break;
      position[d] = 0;
    }
  }
}

}  // namespace kiln::kernels
