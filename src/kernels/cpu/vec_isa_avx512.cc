// The vector kernels compiled for AVX-512 (512-bit vectors: see src/CMakeLists.txt).
#include "kernels/cpu/vec_isa_impl.h"

namespace kiln::kernels {

const VecIsa& vec_isa_avx512() { return kVecIsa; }

}  // namespace kiln::kernels
