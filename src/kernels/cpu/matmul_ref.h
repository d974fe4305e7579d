// One row-major matrix product C[M,N] = A[M,K] * B[K,N] (C is overwritten), the building block of
// MatMul's batches. float goes through gemm_ref; double, int32 and int64 use the same i-k-j loop.
#pragma once

#include <cstdint>

namespace kiln::kernels {

// Instantiated for double, int32_t and int64_t; float is specialized to call gemm_ref.
template <class T>
void matmul_ref(int64_t M, int64_t N, int64_t K, const T* A, const T* B, T* C);
template <>
void matmul_ref<float>(int64_t M, int64_t N, int64_t K, const float* A, const float* B, float* C);

}  // namespace kiln::kernels
