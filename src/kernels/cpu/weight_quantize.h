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

}  // namespace kiln::kernels
