#include "kernels/cpu/weight_gemv.h"

namespace kiln::kernels {

void weight_gemv_avx512(const WeightMatrixView& w, const GemvArgs& args, ThreadPool& pool);
void dequantize_rows_avx512(const WeightMatrixView& w, int64_t r0, int64_t count, float* out, int64_t ld);
void dequantize_rows_ref(const WeightMatrixView& w, int64_t r0, int64_t count, float* out, int64_t ld);

// AVX2 runs the reference until it has kernels of its own; integer weights' fast path is their
// packed form (packed_int_weights.h).
void weight_gemv(CpuLevel level, const WeightMatrixView& w, const GemvArgs& args, ThreadPool& pool) {
  const bool integer = w.format == WeightFormat::Int8 || w.format == WeightFormat::Int4;
  if (level == CpuLevel::Avx512 && !integer) return weight_gemv_avx512(w, args, pool);
  pool.parallel_for(w.rows, [&](int64_t j0, int64_t j1) { weight_gemv_ref(w, args, j0, j1); }, 16);
}

void dequantize_rows(CpuLevel level, const WeightMatrixView& w, int64_t r0, int64_t count, float* out, int64_t ld) {
  if (level == CpuLevel::Avx512) return dequantize_rows_avx512(w, r0, count, out, ld);
  dequantize_rows_ref(w, r0, count, out, ld);
}

}  // namespace kiln::kernels
