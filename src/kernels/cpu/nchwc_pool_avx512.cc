// The NCHWc pooling kernel compiled for AVX-512: one 16-float vector per pixel.
#include "kernels/cpu/nchwc_pool_impl.h"

namespace kiln::kernels {

NchwcPoolRowsFn nchwc_pool_rows_avx512() { return &nchwc_pool_rows<16>; }

}  // namespace kiln::kernels
