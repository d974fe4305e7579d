// The channel-blocked layout (NCHWc) that the level-3 layout pass moves chains of convolutions
// into, as ONNX Runtime's NchwcTransformer and ncnn's packing do. A tensor [N, C, H, W] is stored
// as [N, ceil(C / block), H, W, block]: one pixel's `block` channels are one vector register, so
// convolution kernels broadcast pixels and vectorize across output channels, and no tile is
// wasted on planes narrower than a vector (7x7 at the end of a ResNet).
//
// Channels past C in the last block hold finite values that no consumer reads into a real channel
// (convolution weights of padded input channels are zero; pooling and elementwise ops are per
// channel; the reorder back to NCHW drops them). Only the reorder into NCHWc writes them as zero.
#pragma once

#include <cstdint>

#include "core/cpu_features.h"

namespace kiln::kernels {

// The block for a CPU level: one vector of floats (16 for AVX-512, 8 for AVX2 and portable code).
inline int64_t nchwc_block(CpuLevel level) { return level == CpuLevel::Avx512 ? 16 : 8; }

inline int64_t nchwc_blocks(int64_t channels, int64_t block) { return (channels + block - 1) / block; }

}  // namespace kiln::kernels
