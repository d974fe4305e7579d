#include "kernels/cpu/gemm_ref.h"

#include <algorithm>

namespace kiln::kernels {
namespace {

// Block sizes keep a kKBlock x kNBlock panel of B (128 KiB) in L2 while the rows of A stream by.
constexpr int64_t kKBlock = 128;
constexpr int64_t kNBlock = 256;

// Eight independent partial sums let the compiler vectorize the reduction without reassociating
// a single sum (which it may not do without -ffast-math).
float dot(const float* a, const float* b, int64_t n) {
  float partial[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) partial[l] += a[i + l] * b[i + l];
  float sum = 0.f;
  for (; i < n; ++i) sum += a[i] * b[i];
  for (float p : partial) sum += p;
  return sum;
}

void scale_rows(int64_t M, int64_t N, float beta, float* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    float* c = C + i * ldc;
    if (beta == 0.f)
      std::fill(c, c + N, 0.f);
    else if (beta != 1.f)
      for (int64_t j = 0; j < N; ++j) c[j] *= beta;
  }
}

}  // namespace

void gemm_ref(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
              const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  scale_rows(M, N, beta, C, ldc);
  if (K <= 0 || alpha == 0.f) return;
  auto a_at = [&](int64_t i, int64_t k) { return transA ? A[k * lda + i] : A[i * lda + k]; };

  if (transB) {
    // Row j of B is column j of op(B): both operands of each dot product are contiguous when A is
    // not transposed; a transposed A is gathered into a contiguous row once per row of C.
    for (int64_t i = 0; i < M; ++i) {
      float a_row_buffer[kKBlock];
      for (int64_t k0 = 0; k0 < K; k0 += kKBlock) {
        const int64_t kn = std::min(kKBlock, K - k0);
        const float* a_row = A + i * lda + k0;
        if (transA) {
          for (int64_t k = 0; k < kn; ++k) a_row_buffer[k] = a_at(i, k0 + k);
          a_row = a_row_buffer;
        }
        float* c = C + i * ldc;
        for (int64_t j = 0; j < N; ++j) c[j] += alpha * dot(a_row, B + j * ldb + k0, kn);
      }
    }
    return;
  }

  // i-k-j order: the innermost loop runs over contiguous rows of B and C, which vectorizes. Four
  // rows of B per pass load and store each element of C once per four multiply-adds.
  for (int64_t k0 = 0; k0 < K; k0 += kKBlock) {
    const int64_t k1 = std::min(K, k0 + kKBlock);
    for (int64_t j0 = 0; j0 < N; j0 += kNBlock) {
      const int64_t j1 = std::min(N, j0 + kNBlock);
      for (int64_t i = 0; i < M; ++i) {
        float* c = C + i * ldc;
        int64_t k = k0;
        for (; k + 4 <= k1; k += 4) {
          const float a0 = alpha * a_at(i, k), a1 = alpha * a_at(i, k + 1), a2 = alpha * a_at(i, k + 2),
                      a3 = alpha * a_at(i, k + 3);
          const float *b0 = B + k * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
          for (int64_t j = j0; j < j1; ++j) c[j] += a0 * b0[j] + a1 * b1[j] + a2 * b2[j] + a3 * b3[j];
        }
        for (; k < k1; ++k) {
          const float a = alpha * a_at(i, k);
          const float* b = B + k * ldb;
          for (int64_t j = j0; j < j1; ++j) c[j] += a * b[j];
        }
      }
    }
  }
}

}  // namespace kiln::kernels
