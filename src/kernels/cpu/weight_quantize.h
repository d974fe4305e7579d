// Quantizing float weight rows into the grouped formats of kernels/cpu/weight_matrix.h, with
// llama.cpp's rounding so that Int8 groups of 32 are bit-identical to GGUF's Q8_0 and Int4
// groups of 32 to Q4_0:
//   Int8: scale = max|w| / 127, q = round(w / scale);
//   Int4: scale = (the w of largest magnitude, with its sign) / -8, q = min(15, trunc(w / scale + 8.5)).
#pragma once

#include <cstdint>

namespace kiln::kernels {

// One row of `cols` floats into `q` (cols bytes) and cols / group scales.
void quantize_int8_row(const float* w, int64_t cols, int64_t group, int8_t* q, float* scales);
// One row into `q` (cols / 2 bytes, the Int4 layout) and cols / group scales; group % 32 == 0.
void quantize_int4_row(const float* w, int64_t cols, int64_t group, uint8_t* q, float* scales);

// Rounds scales to float16 as GGUF stores them: after the quantizers above, the values are then
// Q8_0's and Q4_0's exactly (ggml also rounds the codes with the float scale), and they are what
// the packed kernels (packed_int_weights.h) read. Throws Error(InvalidArgument) for a scale past
// float16's range or NaN.
void round_scales_to_float16(float* scales, int64_t count);

}  // namespace kiln::kernels
