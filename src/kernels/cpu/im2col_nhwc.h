// The windows of a 2-D convolution over one NHWC uint8 image as rows of A for the int8 GEMM
// (qgemm.h): row p is output position p = oy * out_w + ox, and its kernel_h * kernel_w * channels
// columns run in (ky, kx, c) order, so that a window's pixels are copied as whole runs of channels
// (the weights are packed with K in the same order: [out_channels, kh, kw, C]). Taps in the padding
// read pad_value, the activations' zero point, so that they add exactly zero to every sum.
#pragma once

#include <cstdint>

namespace kiln::kernels {

struct Im2colNhwcView {
  const uint8_t* image = nullptr;  // pixel (y, x) at image + (y * width + x) * pixel_stride
  int64_t height = 0, width = 0, channels = 0;
  int64_t pixel_stride = 0;  // channels, or more when the convolution reads one group's channels
  int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0;
  int64_t out_h = 0, out_w = 0;
};

// The rows of positions [first, first + count), row p - first at rows + (p - first) * ld
// (ld >= kernel_h * kernel_w * channels; a range lets callers keep a block of rows in cache).
void im2col_nhwc_u8(const Im2colNhwcView& v, int64_t first, int64_t count, uint8_t pad_value, uint8_t* rows,
                    int64_t ld);

}  // namespace kiln::kernels
