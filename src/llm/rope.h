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
  // Rotates the `heads` consecutive heads of `row` to `position`; `angles` is scratch of
  // head_dim floats the caller keeps (cos in the first half, sin in the second).
  void apply(float* row, int64_t heads, int64_t position, float* angles) const;
  int64_t head_dim() const { return 2 * static_cast<int64_t>(inv_freq_.size()); }

 private:
  std::vector<float> inv_freq_;
};

}  // namespace kiln::llm
