#include "llm/rope.h"

#include <cmath>
#include <numbers>

namespace kiln::llm {

std::vector<float> rope_inverse_frequencies(double theta, int64_t head_dim, const std::optional<Llama3RopeScaling>& s) {
  std::vector<float> out;
  for (int64_t i = 0; i < head_dim / 2; ++i) {
    double inv = 1.0 / std::pow(theta, static_cast<double>(2 * i) / static_cast<double>(head_dim));
    if (s) {
      // Wavelengths longer than the original context divided by low_freq_factor are slowed by
      // `factor`, shorter than it by high_freq_factor kept, and those between blended linearly.
      const double original = static_cast<double>(s->original_max_position_embeddings);
      const double low_wavelen = original / s->low_freq_factor, high_wavelen = original / s->high_freq_factor;
      const double wavelen = 2 * std::numbers::pi / inv;
      const double scaled = wavelen > low_wavelen ? inv / s->factor : inv;
      if (wavelen >= high_wavelen && wavelen <= low_wavelen) {
        const double smooth = (original / wavelen - s->low_freq_factor) / (s->high_freq_factor - s->low_freq_factor);
        inv = (1 - smooth) * scaled / s->factor + smooth * scaled;
      } else {
        inv = scaled;
      }
    }
    out.push_back(static_cast<float>(inv));
  }
  return out;
}

Rope::Rope(const LlamaConfig& config)
    : inv_freq_(rope_inverse_frequencies(config.rope_theta, config.head_dim, config.rope_scaling)) {}

void Rope::angles(int64_t position, float* out) const {
  const size_t half = inv_freq_.size();
  for (size_t i = 0; i < half; ++i) {
    const float angle = static_cast<float>(position) * inv_freq_[i];
    out[i] = std::cos(angle);
    out[i + half] = std::sin(angle);
  }
}

void Rope::rotate(float* row, int64_t heads, const float* angles) const {
  const int64_t half = static_cast<int64_t>(inv_freq_.size());
  const float* cosines = angles;
  const float* sines = angles + half;
  for (int64_t h = 0; h < heads; ++h) {
    float* x = row + h * 2 * half;
    for (int64_t i = 0; i < half; ++i) {
      const float a = x[i], b = x[i + half];
      x[i] = a * cosines[i] - b * sines[i];
      x[i + half] = b * cosines[i] + a * sines[i];
    }
  }
}

}  // namespace kiln::llm
