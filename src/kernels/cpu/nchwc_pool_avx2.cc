// The NCHWc pooling kernel compiled for AVX2 + FMA: one 8-float vector per pixel.
#include "kernels/cpu/nchwc_pool_impl.h"

namespace kiln::kernels {

NchwcPoolRowsFn nchwc_pool_rows_avx2() { return &nchwc_pool_rows<8>; }

}  // namespace kiln::kernels
