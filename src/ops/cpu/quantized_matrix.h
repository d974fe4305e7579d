// What the 8-bit matrix products (MatMulInteger, QLinearMatMul, QGemm) share on the int8 GEMM
// (kernels/cpu/qgemm.h): a constant 2-D B and its zero points packed once at kernel creation, and
// A presented as uint8 rows.
#pragma once

#include <cstdint>
#include <optional>

#include "core/aligned_buffer.h"
#include "kernels/cpu/qgemm.h"
#include "ops/kernel.h"

namespace kiln::ops {

// B (input b_index) packed when it and its zero point (zp_index; absent is zero) are constants and
// B is 2-D 8-bit: [K, N], or [N, K] when transposed. nullopt otherwise (the caller then computes
// with the reference).
std::optional<kernels::PackedQuantWeights> pack_constant_matrix(const KernelInfo& info, size_t b_index, size_t zp_index,
                                                                bool transposed);

// A's values as uint8 rows for the GEMM: a uint8 tensor as it is; an int8 one shifted by 128 into
// `scratch`, its zero point with it.
struct UnsignedRows {
  const uint8_t* data;
  int32_t zero_point;
};
UnsignedRows unsigned_rows(const Tensor& a, int32_t zero_point, AlignedBuffer<uint8_t>& scratch);

// A per-thread buffer for unsigned_rows, grown to the largest A seen.
AlignedBuffer<uint8_t>& unsigned_rows_scratch(int64_t count);

}  // namespace kiln::ops
