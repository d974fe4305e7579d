#include "kernels/cpu/depthwise_conv_impl.h"

namespace kiln::kernels {

DepthwisePlaneFn depthwise_plane_avx2() { return &depthwise_plane; }

}  // namespace kiln::kernels
