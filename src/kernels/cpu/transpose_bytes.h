// Transposes of byte matrices (uint8/int8 tensors between NCHW and NHWC): 16 x 16 blocks by four
// rounds of byte interleaves (the perfect-shuffle network; SSE2, so every level has it), the edges
// byte by byte.
#pragma once

#include <cstdint>

namespace kiln::kernels {

// dst[c * dst_ld + r] = src[r * src_ld + c] ^ flip for r in [0, rows) and c in [c_begin, c_end)
// (c_begin a multiple of 16 for the blocks to align). flip 0x80 turns int8 into uint8 shifted by
// 128 on the way.
void transpose_bytes(const uint8_t* src, int64_t rows, int64_t src_ld, uint8_t* dst, int64_t dst_ld, uint8_t flip,
                     int64_t c_begin, int64_t c_end);

}  // namespace kiln::kernels
