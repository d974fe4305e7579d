#include "kernels/cpu/packed_int_weights.h"

#include <cstring>
#include <string>

#include "kiln/error.h"

namespace kiln::kernels {

PackedIntWeights pack_int_weights(const WeightMatrixView& w) {
  if (w.format != WeightFormat::Int8 && w.format != WeightFormat::Int4)
    throw Error(ErrorCode::InvalidArgument, std::string("only int8 and int4 weights are packed, not ") +
                                                weight_format_name(w.format));
  if (w.format == WeightFormat::Int4 && w.cols % 32)
    throw Error(ErrorCode::InvalidArgument, "int4 rows are runs of 32 inputs, not " + std::to_string(w.cols));
  if (w.group != w.cols && (w.group % 32 || w.cols % w.group))
    throw Error(ErrorCode::InvalidArgument, "packed weights take one scale per row or groups of a multiple of 32 "
                                            "that tile the row, not groups of " + std::to_string(w.group) +
                                                " in rows of " + std::to_string(w.cols));
  constexpr int64_t kPanel = PackedIntWeights::kPanel;
  PackedIntWeights p;
  p.format = w.format;
  p.rows = w.rows;
  p.cols = w.cols;
  p.blocks = (w.cols + 31) / 32;
  p.panels = (w.rows + kPanel - 1) / kPanel;
  p.groups = w.cols / w.group;
  p.group_blocks = p.blocks / p.groups;
  const bool int4 = w.format == WeightFormat::Int4;
  const int32_t offset = int4 ? 8 : 128;
  p.data.resize_discarding(static_cast<size_t>(p.bytes()));
  uint8_t* out = p.data.data();
  for (int64_t panel = 0; panel < p.panels; ++panel) {
    for (int64_t g = 0; g < p.groups; ++g) {
      float scales[kPanel];
      for (int64_t n = 0; n < kPanel; ++n) {
        const int64_t r = panel * kPanel + n;
        scales[n] = r < w.rows ? w.scales[r * p.groups + g] : 0.f;
      }
      std::memcpy(out, scales, sizeof scales);
      out += PackedIntWeights::kScaleBytes;
      for (int64_t b = g * p.group_blocks; b < (g + 1) * p.group_blocks; ++b, out += p.block_bytes()) {
        for (int64_t n = 0; n < kPanel; ++n) {
          const int64_t r = panel * kPanel + n;
          for (int64_t k = 0; k < 32; ++k) {
            const int64_t c = b * 32 + k;
            const auto code = static_cast<uint8_t>((r < w.rows && c < w.cols ? weight_code(w, r, c) : 0) + offset);
            // Input k of the block is byte t = k % 4 of its quad i = k / 4; Int4 packs quads 2v and
            // 2v + 1 into the low and high nibbles of vector v.
            const int64_t quad = k / 4, t = k % 4;
            if (int4) {
              uint8_t& byte = out[quad / 2 * 64 + 4 * n + t];
              byte = quad % 2 == 0 ? code : static_cast<uint8_t>(byte | code << 4);
            } else {
              out[quad * 64 + 4 * n + t] = code;
            }
          }
        }
      }
    }
  }
  return p;
}

}  // namespace kiln::kernels
