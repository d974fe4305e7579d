// The reference single-precision GEMM: C = alpha * op(A) * op(B) + beta * C, row-major, where
// op(X) is X or its transpose. op(A) is M x K, op(B) is K x N, C is M x N; lda, ldb and ldc are
// the row strides of A, B and C as stored. With beta == 0, C is written without being read (it may
// hold garbage). The scalar oracle for faster GEMMs, and the GEMM of the reference conv and matmul.
#pragma once

#include <cstdint>

namespace kiln::kernels {

void gemm_ref(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
              const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

}  // namespace kiln::kernels
