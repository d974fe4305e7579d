#include "kernels/cpu/nchwc_conv_ref.h"

#include "kernels/cpu/nchwc.h"

namespace kiln::kernels {

void compute_nchwc_conv_ref(const float* x, int64_t in_lanes, const float* w, int64_t out_channels, int64_t in_channels,
                            bool depthwise, const NchwcConvGeometry& g, int64_t block, float* y,
                            const NchwcConvEpilogue& epilogue) {
  const int64_t in_blocks = nchwc_blocks(in_channels, in_lanes), out_blocks = nchwc_blocks(out_channels, block);
  const int64_t taps = g.kernel_h * g.kernel_w;
  auto at = [&](int64_t n, int64_t channel, int64_t iy, int64_t ix) {
    return x[(((n * in_blocks + channel / in_lanes) * g.in_h + iy) * g.in_w + ix) * in_lanes + channel % in_lanes];
  };
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t m = 0; m < out_channels; ++m)
      for (int64_t oy = 0; oy < g.out_h; ++oy)
        for (int64_t ox = 0; ox < g.out_w; ++ox) {
          float acc = epilogue.bias ? epilogue.bias[m] : 0.f;
          const int64_t first = depthwise ? m : 0, last = depthwise ? m + 1 : in_channels;
          for (int64_t ci = first; ci < last; ++ci)
            for (int64_t ky = 0; ky < g.kernel_h; ++ky)
              for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
                const int64_t iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
                const int64_t ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
                if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) continue;
                const int64_t filter = depthwise ? m * taps : (m * in_channels + ci) * taps;
                acc += at(n, ci, iy, ix) * w[filter + ky * g.kernel_w + kx];
              }
          const int64_t index = (((n * out_blocks + m / block) * g.out_h + oy) * g.out_w + ox) * block + m % block;
          if (epilogue.residual) acc += epilogue.residual[index];
          y[index] = apply_activation_ref(epilogue.activation, acc);
        }
}

}  // namespace kiln::kernels
