#include "kernels/cpu/weight_quantize.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "kiln/dtype.h"
#include "kiln/error.h"

namespace kiln::kernels {

void quantize_int8_row(const float* w, int64_t cols, int64_t group, int8_t* q, float* scales) {
  for (int64_t g0 = 0; g0 < cols; g0 += group) {
    float amax = 0.f;
    for (int64_t c = g0; c < g0 + group; ++c) amax = std::max(amax, std::abs(w[c]));
    const float scale = amax / 127.f, inverse = scale != 0.f ? 1.f / scale : 0.f;
    scales[g0 / group] = scale;
    for (int64_t c = g0; c < g0 + group; ++c) q[c] = static_cast<int8_t>(std::lround(w[c] * inverse));
  }
}

void quantize_int4_row(const float* w, int64_t cols, int64_t group, uint8_t* q, float* scales) {
  for (int64_t g0 = 0; g0 < cols; g0 += group) {
    float extreme = 0.f;
    for (int64_t c = g0; c < g0 + group; ++c)
      if (std::abs(w[c]) > std::abs(extreme)) extreme = w[c];
    const float scale = extreme / -8.f, inverse = scale != 0.f ? 1.f / scale : 0.f;
    scales[g0 / group] = scale;
    auto level = [&](int64_t c) { return static_cast<uint8_t>(std::min(15, static_cast<int>(w[c] * inverse + 8.5f))); };
    for (int64_t b0 = g0; b0 < g0 + group; b0 += 32)
      for (int64_t i = 0; i < 16; ++i) q[b0 / 2 + i] = static_cast<uint8_t>(level(b0 + i) | level(b0 + 16 + i) << 4);
  }
}

void round_scales_to_float16(float* scales, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    const float half = to_float(to_float16(scales[i]));
    if (!std::isfinite(half)) {
      char value[32];
      std::snprintf(value, sizeof value, "%g", scales[i]);
      throw Error(ErrorCode::InvalidArgument, std::string("a weight scale of ") + value +
                                                  " has no float16 (its largest is 65504; NaN or infinite weights have none)");
    }
    scales[i] = half;
  }
}

}  // namespace kiln::kernels
