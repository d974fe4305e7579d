// Branch-free single-precision exp, logistic, tanh and erf, written as plain scalar code in which
// every step maps to one vector instruction (no calls, branches or table lookups), so that a loop
// calling them vectorizes as wide as the instruction set it is compiled for. Both sides of a
// piecewise approximation are computed and one is selected, which vectorizes as a blend.
//
// Included only by files compiled for one instruction set (*_avx2.cc, *_avx512.cc). Everything
// has internal linkage, and only compiler builtins are called, never std:: inline functions:
// copies compiled for different instruction sets must never be merged by the linker (see
// tile_epilogue.h).
//
// The polynomials are Chebyshev fits (mpmath, in 40-digit arithmetic) rounded to float; the
// structure follows Cephes and the vector libraries (MLAS, XNNPACK). Measured against
// double-precision libm over the float range (tests/fast_unary_test.cc), the maximum errors are
// 1.03 ulp for exp, 1.23 for tanh, 1.06 for erf and 2.47 for the logistic function; NaN
// propagates, overflow gives inf and underflow gives (gradually) 0.
#pragma once

#include <cstdint>

namespace kiln::kernels {
namespace {

// leading x^n + ... + rest[n-1], by Horner's rule (the compiler fuses each step into an FMA where
// the instruction set has one).
template <class... Coefficients>
inline float horner(float x, float leading, Coefficients... rest) {
  float p = leading;
  ((p = p * x + rest), ...);
  return p;
}

// e^x. x = n ln2 + r with |r| <= ln2 / 2; e^r from a polynomial, 2^n built in the exponent bits.
[[maybe_unused]] inline float vec_exp(float x) {
  // Outside [-104, 89] e^x is 0 or inf in float; clamping keeps n in range. The comparisons are
  // false for NaN, which passes through and poisons the result.
  x = x < -104.f ? -104.f : x;
  x = x > 89.f ? 89.f : x;
  // Adding 1.5 * 2^23 rounds to an integer (to nearest) without a rounding instruction.
  constexpr float kRound = 12582912.f;
  const float n = (x * 1.44269504088896341f + kRound) - kRound;
  // Cody-Waite: ln2 = 0.693359375 - 2.12194440e-4, the first part short enough that n times it
  // is exact, so r loses nothing to cancellation.
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  // e^r = 1 + r + r^2 g(r), g fitted on [-ln2/2, ln2/2] to 6.5e-8.
  const float g = horner(r, 1.392617589e-03f, 8.363173343e-03f, 4.166655615e-02f, 1.666657776e-01f,
                         5.000000000e-01f);
  const float p = (g * (r * r) + r) + 1.f;
  // 2^n as two factors 2^(n/2), each a normal float for every n in [-150, 129], so that results
  // below 2^-126 round gradually to subnormals and above 2^128 overflow to inf.
  const int32_t ni = static_cast<int32_t>(n);
  const int32_t half = ni >> 1;
  const float scale_a = __builtin_bit_cast(float, (half + 127) << 23);
  const float scale_b = __builtin_bit_cast(float, (ni - half + 127) << 23);
  return p * scale_a * scale_b;
}

// 1 / (1 + e^-x), exponentiating only -|x| so that neither side loses relative accuracy.
[[maybe_unused]] inline float vec_sigmoid(float x) {
  const float z = vec_exp(-__builtin_fabsf(x));
  const float s = 1.f / (1.f + z);
  return x >= 0.f ? s : z * s;  // NaN takes the second form, which is NaN
}

[[maybe_unused]] inline float vec_tanh(float x) {
  const float a = __builtin_fabsf(x);
  // |x| < 0.625: tanh x = x + x^3 p(x^2), p fitted to 4.3e-8.
  const float s = x * x;
  const float p = horner(s, -6.096714176e-03f, 2.099717967e-02f, -5.385090783e-02f, 1.333276927e-01f,
                         -3.333332837e-01f);
  const float small = x + x * s * p;
  // Beyond, 1 - 2 / (e^2|x| + 1) has no cancellation (the result is above 0.55); e^2|x| = inf
  // gives 1 exactly.
  const float large = __builtin_copysignf(1.f - 2.f / (vec_exp(2.f * a) + 1.f), x);
  return a < 0.625f ? small : large;  // NaN takes `large`, which is NaN
}

[[maybe_unused]] inline float vec_erf(float x) {
  const float a = __builtin_fabsf(x);
  // |x| < 0.921875: erf x = x + x h(x^2), h fitted to 1.6e-8 (h(0) = 2/sqrt(pi) - 1).
  const float s = x * x;
  const float h = horner(s, -6.004081224e-04f, 4.996020347e-03f, -2.676875703e-02f, 1.128188223e-01f,
                         -3.761250079e-01f, 1.283791512e-01f);
  const float small = x + x * h;
  // Beyond, erf x = 1 - erfc x with log erfc fitted on [0.921875, 4] to 1.9e-8. erfc 4 = 1.5e-8
  // rounds 1 - erfc to 1, so clamping at 4 gives the right answer for every larger |x|.
  const float t = a > 4.f ? 4.f : a;  // NaN passes through
  const float q = horner(t, 1.643570954e-06f, -4.617827653e-05f, 5.977498367e-04f, -4.763623234e-03f,
                         2.643121220e-02f, -1.100949422e-01f, -6.318138838e-01f, -1.130238056e+00f,
                         3.205816320e-04f);
  const float large = __builtin_copysignf(1.f - vec_exp(q), x);
  return a < 0.921875f ? small : large;
}

}  // namespace
}  // namespace kiln::kernels
