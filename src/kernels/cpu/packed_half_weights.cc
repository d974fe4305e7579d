#include "kernels/cpu/packed_half_weights.h"

#include <algorithm>
#include <string>
#include <vector>

#include "kiln/error.h"

namespace kiln::kernels {

PackedHalfWeights pack_half_weights(std::span<const WeightMatrixView> parts) {
  if (parts.empty()) throw Error(ErrorCode::InvalidArgument, "no weights to pack");
  const WeightMatrixView& first = parts.front();
  if (first.format != WeightFormat::F16 && first.format != WeightFormat::BF16)
    throw Error(ErrorCode::InvalidArgument, std::string("only float16 and bfloat16 weights are packed in panels, not ") +
                                                weight_format_name(first.format));
  constexpr int64_t kPanel = PackedHalfWeights::kPanel;
  PackedHalfWeights p;
  p.format = first.format;
  p.cols = first.cols;
  std::vector<const uint16_t*> rows;  // every output's row, stacked
  for (const WeightMatrixView& part : parts) {
    if (part.format != first.format || part.cols != first.cols)
      throw Error(ErrorCode::InvalidArgument, std::string("weights packed as one must share format and width: ") +
                                                  weight_format_name(part.format) + " x " + std::to_string(part.cols) +
                                                  " after " + weight_format_name(first.format) + " x " +
                                                  std::to_string(first.cols));
    for (int64_t r = 0; r < part.rows; ++r) rows.push_back(static_cast<const uint16_t*>(part.data) + r * part.cols);
  }
  p.rows = static_cast<int64_t>(rows.size());
  p.panels = (p.rows + kPanel - 1) / kPanel;
  p.data.resize_discarding(static_cast<size_t>(p.panels * kPanel * p.cols));
  // kPanel inputs of the panel's kPanel rows at a time: a run of the output, written whole.
  for (int64_t panel = 0; panel < p.panels; ++panel) {
    uint16_t* out = p.data.data() + panel * kPanel * p.cols;
    for (int64_t k0 = 0; k0 < p.cols; k0 += kPanel) {
      const int64_t k1 = std::min(p.cols, k0 + kPanel);
      for (int64_t n = 0; n < kPanel; ++n) {
        const int64_t r = panel * kPanel + n;
        // Zero bits are 0.0 in both formats.
        for (int64_t k = k0; k < k1; ++k) out[k * kPanel + n] = r < p.rows ? rows[static_cast<size_t>(r)][k] : uint16_t{0};
      }
    }
  }
  return p;
}

}  // namespace kiln::kernels
