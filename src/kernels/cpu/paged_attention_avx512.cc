// The paged attention kernel compiled for AVX512 (see src/CMakeLists.txt).
#include "kernels/cpu/paged_attention_impl.h"

namespace kiln::kernels {

void paged_attention_avx512(const PagedKv& kv, const PagedQueries& q, float scale, float* out, ThreadPool& pool) {
  paged_attention_fast(kv, q, scale, out, pool);
}

}  // namespace kiln::kernels
