// The NCHWc convolution's reference twin (kernels/cpu/nchwc_conv.h).
#pragma once

#include "kernels/cpu/nchwc_conv.h"

namespace kiln::kernels {

// The reference twin, the test oracle: plain loops over the tensors, w as given to
// PreparedNchwcConv, every tap bounds-checked. x has in_lanes channels per block (1: NCHW), y
// `block`.
void compute_nchwc_conv_ref(const float* x, int64_t in_lanes, const float* w, int64_t out_channels, int64_t in_channels,
                            bool depthwise, const NchwcConvGeometry& g, int64_t block, float* y,
                            const NchwcConvEpilogue& epilogue);

}  // namespace kiln::kernels
