// The vector kernels compiled for AVX2 + FMA (256-bit vectors: see src/CMakeLists.txt).
#include "kernels/cpu/vec_isa_impl.h"

namespace kiln::kernels {

const VecIsa& vec_isa_avx2() { return kVecIsa; }

}  // namespace kiln::kernels
