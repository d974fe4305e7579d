#include "kernels/cpu/im2col_nhwc.h"

#include <cstring>

namespace kiln::kernels {

void im2col_nhwc_u8(const Im2colNhwcView& v, int64_t first, int64_t count, uint8_t pad_value, uint8_t* rows,
                    int64_t ld) {
  const auto tap_bytes = static_cast<size_t>(v.channels);
  // A kernel row's taps inside the image are then one run of memory.
  const bool adjacent_taps = v.dilation_w == 1 && v.pixel_stride == v.channels;
  for (int64_t p = first; p < first + count; ++p) {
    const int64_t oy = p / v.out_w, ox = p % v.out_w;
    const int64_t x0 = ox * v.stride_w - v.pad_left;
    uint8_t* out = rows + (p - first) * ld;
    for (int64_t ky = 0; ky < v.kernel_h; ++ky, out += v.kernel_w * v.channels) {
      const int64_t y = oy * v.stride_h - v.pad_top + ky * v.dilation_h;
      // Taps [inside_begin, inside_end) of this kernel row fall inside the image (kernels are narrow).
      int64_t inside_begin = 0, inside_end = y >= 0 && y < v.height ? v.kernel_w : 0;
      while (inside_begin < inside_end && x0 + inside_begin * v.dilation_w < 0) ++inside_begin;
      while (inside_end > inside_begin && x0 + (inside_end - 1) * v.dilation_w >= v.width) --inside_end;
      std::memset(out, pad_value, static_cast<size_t>(inside_begin) * tap_bytes);
      if (inside_end > inside_begin) {
        const uint8_t* line = v.image + y * v.width * v.pixel_stride;
        if (adjacent_taps)
          std::memcpy(out + inside_begin * v.channels, line + (x0 + inside_begin) * v.channels,
                      static_cast<size_t>(inside_end - inside_begin) * tap_bytes);
        else
          for (int64_t kx = inside_begin; kx < inside_end; ++kx)
            std::memcpy(out + kx * v.channels, line + (x0 + kx * v.dilation_w) * v.pixel_stride, tap_bytes);
      }
      std::memset(out + inside_end * v.channels, pad_value, static_cast<size_t>(v.kernel_w - inside_end) * tap_bytes);
    }
  }
}

}  // namespace kiln::kernels
