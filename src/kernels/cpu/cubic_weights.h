// Keys' cubic convolution kernel, shared by Resize's cubic mode and GridSample's bicubic mode.
#pragma once

#include <array>

namespace kiln::kernels {

// The weights of the taps at floor(x) - 1 .. floor(x) + 2, where t = x - floor(x) and `a` is the
// kernel's free parameter (-0.75 in PyTorch, ONNX's default for Resize).
inline std::array<double, 4> cubic_weights(double t, double a) {
  const auto outer = [a](double d) { return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a; };  // 1 <= d < 2
  const auto inner = [a](double d) { return ((a + 2) * d - (a + 3)) * d * d + 1; };        // 0 <= d < 1
  return {outer(t + 1), inner(t), inner(1 - t), outer(2 - t)};
}

}  // namespace kiln::kernels
