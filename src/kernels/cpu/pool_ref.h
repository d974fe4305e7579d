// Reference pooling over any number of spatial dims. X [planes, geometry.input...] and
// Y [planes, geometry.output...] are dense row-major, a plane being one (image, channel) pair.
// Global pooling is a window the size of the input.
#pragma once

#include <cstdint>

#include "core/thread_pool.h"
#include "kernels/cpu/window_geometry.h"

namespace kiln::kernels {

// The maximum of each window, ignoring padding. `indices`, when not null, receives the flat index
// into X of each maximum (the first one on ties): row-major over the whole tensor, or with the
// spatial part column-major when `column_major_indices` (ONNX's storage_order 1).
template <class T>
void compute_max_pool(const T* x, T* y, int64_t* indices, bool column_major_indices, int64_t planes,
                      const WindowGeometry& geometry, ThreadPool& pool);

// The mean of each window: over the taps inside the input, or with `count_include_pad` over the
// taps inside the padded input (padding counts as zeros).
void compute_average_pool(const float* x, float* y, bool count_include_pad, int64_t planes,
                          const WindowGeometry& geometry, ThreadPool& pool);

// The p-norm of each window, (sum |x|^p)^(1/p); padding counts as zeros.
void compute_lp_pool(const float* x, float* y, float p, int64_t planes, const WindowGeometry& geometry,
                     ThreadPool& pool);

}  // namespace kiln::kernels
