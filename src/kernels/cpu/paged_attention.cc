#include "kernels/cpu/paged_attention.h"

namespace kiln::kernels {

void paged_attention_avx512(const PagedKv& kv, const PagedQueries& q, float scale, float* out, ThreadPool& pool);
void paged_attention_avx2(const PagedKv& kv, const PagedQueries& q, float scale, float* out, ThreadPool& pool);

void paged_attention(CpuLevel level, const PagedKv& kv, const PagedQueries& q, float scale, float* out,
                     ThreadPool& pool) {
  switch (level) {
    case CpuLevel::Avx512: return paged_attention_avx512(kv, q, scale, out, pool);
    case CpuLevel::Avx2: return paged_attention_avx2(kv, q, scale, out, pool);
    case CpuLevel::Scalar: return paged_attention_ref(kv, q, scale, out);
  }
}

}  // namespace kiln::kernels
