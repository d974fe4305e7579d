#include "kernels/cpu/depthwise_conv.h"

namespace kiln::kernels {

DepthwisePlaneFn depthwise_plane_kernel(CpuLevel level) {
  switch (level) {
    case CpuLevel::Avx512: return depthwise_plane_avx512();
    case CpuLevel::Avx2: return depthwise_plane_avx2();
    case CpuLevel::Scalar: break;
  }
  return depthwise_plane_scalar();
}

}  // namespace kiln::kernels
