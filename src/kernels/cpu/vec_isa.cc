#include "kernels/cpu/vec_isa.h"

#include "kernels/cpu/elementwise.h"

namespace kiln::kernels {

const VecIsa* vec_isa(CpuLevel level) {
  switch (level) {
    case CpuLevel::Avx512: return &vec_isa_avx512();
    case CpuLevel::Avx2: return &vec_isa_avx2();
    case CpuLevel::Scalar: break;
  }
  return nullptr;
}

void parallel_vec_unary(ThreadPool& pool, const VecIsa& isa, const UnaryOp& op, const float* x, float* y, int64_t n) {
  pool.parallel_for(
      n, [&](int64_t begin, int64_t end) { isa.unary(op, x + begin, y + begin, end - begin); }, kElementwiseGrain);
}

}  // namespace kiln::kernels
