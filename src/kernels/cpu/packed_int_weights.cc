#include "kernels/cpu/packed_int_weights.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "kiln/dtype.h"
#include "kiln/error.h"

namespace kiln::kernels {

namespace {

// Row r's codes for inputs 32b to 32b + 31, offset to unsigned as the kernel reads them (Int4's
// stored nibbles already are: code + 8; Int8's +128 flips the sign bit). A zero weight past the
// matrix's rows or columns is the offset itself.
void biased_block_codes(const WeightMatrixView& w, int64_t r, int64_t b, uint8_t codes[32]) {
  const bool int4 = w.format == WeightFormat::Int4;
  if (r >= w.rows) {
    std::memset(codes, int4 ? 8 : 128, 32);
    return;
  }
  const auto* row = static_cast<const uint8_t*>(w.data) + r * weight_row_bytes(w.format, w.cols);
  if (int4) {
    // Q4_0's layout: byte i of a block holds input i in its low nibble and input i + 16 in its high.
    for (int64_t i = 0; i < 16; ++i) {
      codes[i] = row[b * 16 + i] & 0x0F;
      codes[i + 16] = row[b * 16 + i] >> 4;
    }
    return;
  }
  for (int64_t k = 0; k < 32; ++k) codes[k] = b * 32 + k < w.cols ? static_cast<uint8_t>(row[b * 32 + k] ^ 0x80) : 128;
}

// Row r's scale for group g as float16, zero past the matrix's rows.
Float16 half_scale(const WeightMatrixView& w, int64_t r, int64_t g) {
  if (r >= w.rows) return to_float16(0.f);
  const int64_t groups = w.cols / w.group;
  const float scale = w.scales[r * groups + g];
  const Float16 half = to_float16(scale);
  if (to_float(half) != scale) {
    char value[32];
    std::snprintf(value, sizeof value, "%.9g", scale);
    throw Error(ErrorCode::InvalidArgument, "packed weights keep float16 scales; row " + std::to_string(r) + " group " +
                                                std::to_string(g) + " has " + value +
                                                ", which float16 does not hold (quantize with weight_quantize.h)");
  }
  return half;
}

}  // namespace

PackedIntWeights packed_int_layout(WeightFormat format, int64_t rows, int64_t cols, int64_t group) {
  if (format != WeightFormat::Int8 && format != WeightFormat::Int4)
    throw Error(ErrorCode::InvalidArgument, std::string("only int8 and int4 weights are packed, not ") +
                                                weight_format_name(format));
  if (format == WeightFormat::Int4 && cols % 32)
    throw Error(ErrorCode::InvalidArgument, "int4 rows are runs of 32 inputs, not " + std::to_string(cols));
  if (group <= 0 || (group != cols && (group % 32 || cols % group)))
    throw Error(ErrorCode::InvalidArgument, "packed weights take one scale per row or groups of a multiple of 32 "
                                            "that tile the row, not groups of " + std::to_string(group) +
                                                " in rows of " + std::to_string(cols));
  constexpr int64_t kPanel = PackedIntWeights::kPanel;
  PackedIntWeights p;
  p.format = format;
  p.rows = rows;
  p.cols = cols;
  p.blocks = (cols + 31) / 32;
  p.panels = (rows + kPanel - 1) / kPanel;
  p.groups = cols / group;
  p.group_blocks = p.blocks / p.groups;
  return p;
}

PackedIntWeights pack_int_weights(const WeightMatrixView& w, WeightStore& store, std::string_view key) {
  PackedIntWeights p = packed_int_layout(w.format, w.rows, w.cols, w.group);
  p.data = store.get(key, static_cast<size_t>(p.bytes()),
                     [&](std::byte* out) { pack_int_weights_into(w, p, reinterpret_cast<uint8_t*>(out)); });
  return p;
}

void pack_int_weights_into(const WeightMatrixView& w, const PackedIntWeights& p, uint8_t* out) {
  constexpr int64_t kPanel = PackedIntWeights::kPanel;
  const bool int4 = w.format == WeightFormat::Int4;
  for (int64_t panel = 0; panel < p.panels; ++panel) {
    for (int64_t g = 0; g < p.groups; ++g) {
      if (g % 2 == 0) {
        std::memset(out, 0, PackedIntWeights::kScaleLineBytes);
        for (int64_t pair = g; pair < std::min(g + 2, p.groups); ++pair)
          for (int64_t n = 0; n < kPanel; ++n) {
            const int64_t r = panel * kPanel + n;
            const Float16 half = half_scale(w, r, pair);
            std::memcpy(out + ((pair - g) * kPanel + n) * 2, &half.bits, 2);
          }
        out += PackedIntWeights::kScaleLineBytes;
      }
      for (int64_t b = g * p.group_blocks; b < (g + 1) * p.group_blocks; ++b, out += p.block_bytes()) {
        for (int64_t n = 0; n < kPanel; ++n) {
          uint8_t codes[32];
          biased_block_codes(w, panel * kPanel + n, b, codes);
          // Input k of the block is byte t = k % 4 of its quad k / 4; Int4 packs quads 2v and
          // 2v + 1 into the low and high nibbles of vector v.
          for (int64_t t = 0; t < 4; ++t) {
            if (int4)
              for (int64_t v = 0; v < 4; ++v) out[v * 64 + 4 * n + t] = static_cast<uint8_t>(codes[8 * v + t] | codes[8 * v + 4 + t] << 4);
            else
              for (int64_t quad = 0; quad < 8; ++quad) out[quad * 64 + 4 * n + t] = codes[4 * quad + t];
          }
        }
      }
    }
  }
}

}  // namespace kiln::kernels
