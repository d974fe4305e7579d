// GridSample (ONNX opset 16, as PyTorch's grid_sample): samples each plane of an input image at
// the points that a grid gives.
#pragma once

#include <cstdint>

#include "core/thread_pool.h"

namespace kiln::kernels {

enum class GridSampleMode { Bilinear, Nearest, Bicubic };
// How points outside the image are read: as 0, as the nearest edge pixel, or reflected back in.
enum class GridSamplePadding { Zeros, Border, Reflection };

struct GridSampleOptions {
  GridSampleMode mode = GridSampleMode::Bilinear;
  GridSamplePadding padding = GridSamplePadding::Zeros;
  // Whether -1 and 1 name the centres of the corner pixels (true) or the image's outer edges.
  bool align_corners = false;
};

// x is [batch, channels, in_h, in_w]; grid is [batch, out_h, out_w, 2], each point an (x, y) pair
// normalized to [-1, 1] across the width and height; y is [batch, channels, out_h, out_w]. Nearest
// rounds halves to even; bicubic uses Keys' kernel with a = -0.75 and pads each of its 16 taps on
// its own. A point with a non-finite coordinate gives 0. Instantiated for float and double.
template <class T>
void compute_grid_sample(const T* x, const T* grid, T* y, int64_t batch, int64_t channels, int64_t in_h, int64_t in_w,
                         int64_t out_h, int64_t out_w, const GridSampleOptions& options, ThreadPool& pool);

}  // namespace kiln::kernels
