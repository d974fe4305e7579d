// Reorders between NCHW and NCHWc (kernels/cpu/nchwc.h): for each image and channel block, a
// transpose between `block` channel planes of H*W floats and H*W pixels of `block` channels. The
// work is split into tiles of pixels so that each tile's reads and writes stay in L1; with a
// VecIsa (null at the Scalar level) a tile is transposed in vector registers (transpose_32).
#pragma once

#include <cstdint>

#include "core/thread_pool.h"
#include "kernels/cpu/vec_isa.h"

namespace kiln::kernels {

struct NchwcReorderShape {
  int64_t batch, channels, pixels, block;  // pixels: H * W
};

// x [N, C, H, W] -> y [N, ceil(C / block), H, W, block], the padded channels zeroed.
void nchwc_reorder_input(const float* x, float* y, const NchwcReorderShape& shape, const VecIsa* isa,
                         ThreadPool& pool);
// x [N, ceil(C / block), H, W, block] -> y [N, C, H, W], the padded channels dropped.
void nchwc_reorder_output(const float* x, float* y, const NchwcReorderShape& shape, const VecIsa* isa,
                          ThreadPool& pool);

}  // namespace kiln::kernels
