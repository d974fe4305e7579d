// Rotary position embedding in Hugging Face's half-split layout: within each head of head_dim
// values, element i < head_dim / 2 pairs with element i + head_dim / 2 and the pair turns by the
// angle position * inv_freq[i]. Llama 3.1's scaling stretches the low frequencies.
#pragma once

#include <cstdint>
#include <vector>

#include "llm/llama_config.h"

namespace kiln::llm {

// theta^(-2i / head_dim) for i < head_dim / 2, computed in double and rounded to float as
// Transformers does, then rescaled by `scaling` when given.
std::vector<float> rope_inverse_frequencies(double theta, int64_t head_dim, const std::optional<Llama3RopeScaling>& scaling);

class Rope {
 public:
  explicit Rope(const LlamaConfig& config);
  // The turn of `position` into head_dim floats: the cosines in the first half, the sines in the
  // second. Every layer rotates by the same angles, so a forward pass computes them once a row.
  void angles(int64_t position, float* out) const;
  // Rotates the `heads` consecutive heads of `row` by `angles` (from angles()).
  void rotate(float* row, int64_t heads, const float* angles) const;
  int64_t head_dim() const { return 2 * static_cast<int64_t>(inv_freq_.size()); }

 private:
  std::vector<float> inv_freq_;
};

}  // namespace kiln::llm
