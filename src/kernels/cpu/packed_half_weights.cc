#include "kernels/cpu/packed_half_weights.h"

#include <algorithm>
#include <string>
#include <vector>

#include "kiln/error.h"

namespace kiln::kernels {

PackedHalfWeights packed_half_layout(WeightFormat format, int64_t rows, int64_t cols) {
  if (format != WeightFormat::F16 && format != WeightFormat::BF16)
    throw Error(ErrorCode::InvalidArgument, std::string("only float16 and bfloat16 weights are packed in panels, not ") +
                                                weight_format_name(format));
  PackedHalfWeights p;
  p.format = format;
  p.rows = rows;
  p.cols = cols;
  p.panels = (rows + PackedHalfWeights::kPanel - 1) / PackedHalfWeights::kPanel;
  return p;
}

namespace {

// The rows the parts stack up to; Error(InvalidArgument) when their format or width differ.
int64_t stacked_rows(std::span<const WeightMatrixView> parts) {
  if (parts.empty()) throw Error(ErrorCode::InvalidArgument, "no weights to pack");
  const WeightMatrixView& first = parts.front();
  int64_t rows = 0;
  for (const WeightMatrixView& part : parts) {
    if (part.format != first.format || part.cols != first.cols)
      throw Error(ErrorCode::InvalidArgument, std::string("weights packed as one must share format and width: ") +
                                                  weight_format_name(part.format) + " x " + std::to_string(part.cols) +
                                                  " after " + weight_format_name(first.format) + " x " +
                                                  std::to_string(first.cols));
    rows += part.rows;
  }
  return rows;
}

}  // namespace

void pack_half_weights_into(std::span<const WeightMatrixView> parts, const PackedHalfWeights& p, uint16_t* bytes) {
  if (stacked_rows(parts) != p.rows || parts.front().format != p.format || parts.front().cols != p.cols)
    throw Error(ErrorCode::InvalidArgument, "the weights do not have the packed layout's format and size");
  constexpr int64_t kPanel = PackedHalfWeights::kPanel;
  std::vector<const uint16_t*> stacked;  // every output's row
  for (const WeightMatrixView& part : parts)
    for (int64_t r = 0; r < part.rows; ++r) stacked.push_back(static_cast<const uint16_t*>(part.data) + r * part.cols);
  // kPanel inputs of the panel's kPanel rows at a time: a run of the output, written whole.
  for (int64_t panel = 0; panel < p.panels; ++panel) {
    uint16_t* out = bytes + panel * kPanel * p.cols;
    for (int64_t k0 = 0; k0 < p.cols; k0 += kPanel) {
      const int64_t k1 = std::min(p.cols, k0 + kPanel);
      for (int64_t n = 0; n < kPanel; ++n) {
        const int64_t r = panel * kPanel + n;
        // Zero bits are 0.0 in both formats.
        for (int64_t k = k0; k < k1; ++k) out[k * kPanel + n] = r < p.rows ? stacked[static_cast<size_t>(r)][k] : uint16_t{0};
      }
    }
  }
}

PackedHalfWeights pack_half_weights(std::span<const WeightMatrixView> parts, WeightStore& store, std::string_view key) {
  const int64_t rows = stacked_rows(parts);
  PackedHalfWeights p = packed_half_layout(parts.front().format, rows, parts.front().cols);
  p.data = store.get(key, static_cast<size_t>(p.bytes()),
                     [&](std::byte* out) { pack_half_weights_into(parts, p, reinterpret_cast<uint16_t*>(out)); });
  return p;
}

}  // namespace kiln::kernels
