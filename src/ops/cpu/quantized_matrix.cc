#include "ops/cpu/quantized_matrix.h"

#include <vector>

#include "ops/cpu/quant_params.h"

namespace kiln::ops {

std::optional<kernels::PackedQuantWeights> pack_constant_matrix(const KernelInfo& info, size_t b_index, size_t zp_index,
                                                                bool transposed) {
  const Tensor* b = info.constant_input(b_index);
  const Tensor* zp = info.has_input(zp_index) ? info.constant_input(zp_index) : nullptr;
  if (!b || b->rank() != 2 || (info.has_input(zp_index) && !zp)) return std::nullopt;
  if (b->dtype() != DType::UInt8 && b->dtype() != DType::Int8) return std::nullopt;
  const int64_t K = transposed ? b->dim(1) : b->dim(0), N = transposed ? b->dim(0) : b->dim(1);
  if (zp && zp->numel() != 1 && zp->numel() != N) return std::nullopt;
  const std::vector<int32_t> zero_points = read_zero_points(zp, b->dtype(), zp && zp->numel() > 1 ? N : 1, "b_zero_point");
  kernels::QuantWeightsView view;
  view.data = b->raw();
  view.is_signed = b->dtype() == DType::Int8;
  view.ld = b->dim(1);
  view.transposed = transposed;
  view.zero_points = zero_points.data();
  view.zero_point_step = zero_points.size() > 1 ? 1 : 0;
  return kernels::PackedQuantWeights::pack(K, N, view, info.weights());
}

UnsignedRows unsigned_rows(const Tensor& a, int32_t zero_point, AlignedBuffer<uint8_t>& scratch) {
  if (a.dtype() == DType::UInt8) return {a.data<uint8_t>(), zero_point};
  const int8_t* x = a.data<int8_t>();
  uint8_t* y = scratch.data();
  for (int64_t i = 0; i < a.numel(); ++i) y[i] = static_cast<uint8_t>(x[i] ^ 0x80);
  return {y, zero_point + 128};
}

AlignedBuffer<uint8_t>& unsigned_rows_scratch(int64_t count) {
  thread_local AlignedBuffer<uint8_t> buffer;
  thread_local int64_t size = 0;
  if (count > size) buffer.resize_discarding(static_cast<size_t>(size = count));
  return buffer;
}

}  // namespace kiln::ops
