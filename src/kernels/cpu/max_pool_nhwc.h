// 2-D max pooling over NHWC images: each output pixel is the elementwise maximum of the window's
// pixels, whole runs of channels at a time (contiguous, so the maximum vectorizes at any level).
// Padding takes no part, as in ONNX MaxPool. The channels-last form of MaxPool for 8-bit
// tensors between int8 convolutions (passes/quantized_channels_last.h).
#pragma once

#include <cstdint>

#include "core/thread_pool.h"
#include "kernels/cpu/window_geometry.h"

namespace kiln::kernels {

// x [batch, H, W, C] -> y [batch, OH, OW, C] for the 2-D `geometry`. Instantiated for uint8_t,
// int8_t and float.
template <class T>
void max_pool_nhwc(const T* x, int64_t batch, int64_t channels, const WindowGeometry& geometry, T* y, ThreadPool& pool);

}  // namespace kiln::kernels
