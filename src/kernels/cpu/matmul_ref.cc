#include "kernels/cpu/matmul_ref.h"

#include <algorithm>

#include "kernels/cpu/gemm_ref.h"

namespace kiln::kernels {

template <class T>
void matmul_ref(int64_t M, int64_t N, int64_t K, const T* A, const T* B, T* C) {
  // i-k-j order: the innermost loop walks a row of B and a row of C contiguously, so it vectorizes.
  for (int64_t i = 0; i < M; ++i) {
    T* c = C + i * N;
    std::fill(c, c + N, T{0});
    for (int64_t k = 0; k < K; ++k) {
      const T a = A[i * K + k];
      const T* b = B + k * N;
      for (int64_t j = 0; j < N; ++j) c[j] += a * b[j];
    }
  }
}

template <>
void matmul_ref<float>(int64_t M, int64_t N, int64_t K, const float* A, const float* B, float* C) {
  // C is filled first so that the result does not depend on how gemm_ref treats beta == 0.
  std::fill(C, C + M * N, 0.f);
  gemm_ref(false, false, M, N, K, 1.f, A, K, B, N, 1.f, C, N);
}

template void matmul_ref<double>(int64_t, int64_t, int64_t, const double*, const double*, double*);
template void matmul_ref<int32_t>(int64_t, int64_t, int64_t, const int32_t*, const int32_t*, int32_t*);
template void matmul_ref<int64_t>(int64_t, int64_t, int64_t, const int64_t*, const int64_t*, int64_t*);

}  // namespace kiln::kernels
