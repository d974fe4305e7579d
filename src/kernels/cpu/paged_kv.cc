#include "kernels/cpu/paged_kv.h"

#include <cstring>

#include "kernels/cpu/weight_quantize.h"
#include "kiln/dtype.h"
#include "kiln/error.h"

namespace kiln::kernels {

const char* kv_dtype_name(KvDtype dtype) {
  switch (dtype) {
    case KvDtype::Float32: return "f32";
    case KvDtype::Float16: return "f16";
    case KvDtype::Int8: return "int8";
  }
  return "?";
}

KvDtype kv_dtype_from_name(const std::string& name) {
  for (KvDtype dtype : {KvDtype::Float32, KvDtype::Float16, KvDtype::Int8})
    if (name == kv_dtype_name(dtype)) return dtype;
  throw Error(ErrorCode::InvalidArgument, "KV cache dtype '" + name + "' is not one of f32, f16, int8");
}

void store_kv_row(const PagedKvLayout& layout, std::byte* block, int64_t head, int64_t slot, const float* x) {
  std::byte* row = block + layout.row_offset(head, slot);
  const int64_t d = layout.head_dim;
  switch (layout.dtype) {
    case KvDtype::Float32: std::memcpy(row, x, static_cast<size_t>(layout.row_bytes())); return;
    case KvDtype::Float16: {
      auto* h = reinterpret_cast<Float16*>(row);
      for (int64_t c = 0; c < d; ++c) h[c] = to_float16(x[c]);
      return;
    }
    case KvDtype::Int8:
      // One group spanning the row: the weight quantizer's scale and rounding.
      quantize_int8_row(x, d, d, reinterpret_cast<int8_t*>(row),
                        reinterpret_cast<float*>(block + layout.scale_offset(head, slot)));
      return;
  }
}

void load_kv_row(const PagedKvLayout& layout, const std::byte* block, int64_t head, int64_t slot, float* x) {
  const std::byte* row = block + layout.row_offset(head, slot);
  const int64_t d = layout.head_dim;
  switch (layout.dtype) {
    case KvDtype::Float32: std::memcpy(x, row, static_cast<size_t>(layout.row_bytes())); return;
    case KvDtype::Float16: {
      const auto* h = reinterpret_cast<const Float16*>(row);
      for (int64_t c = 0; c < d; ++c) x[c] = to_float(h[c]);
      return;
    }
    case KvDtype::Int8: {
      const auto* q = reinterpret_cast<const int8_t*>(row);
      const float scale = *reinterpret_cast<const float*>(block + layout.scale_offset(head, slot));
      for (int64_t c = 0; c < d; ++c) x[c] = scale * static_cast<float>(q[c]);
      return;
    }
  }
}

}  // namespace kiln::kernels
