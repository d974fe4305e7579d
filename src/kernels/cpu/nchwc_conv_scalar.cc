// The NCHWc convolution in portable C++: 8-channel blocks as plain arrays, which the compiler
// vectorizes with the baseline instruction set.
#include "kernels/cpu/nchwc_conv_impl.h"

namespace kiln::kernels {
namespace {

struct PortableVec {
  static constexpr int kBlock = 8, kMaxPixels = 4;
  struct V {
    float lane[kBlock];
  };
  template <class F>
  static V map(F f) {
    V v;
    for (int i = 0; i < kBlock; ++i) v.lane[i] = f(i);
    return v;
  }
  static V zero() { return map([](int) { return 0.f; }); }
  static V load(const float* p) { return map([p](int i) { return p[i]; }); }
  static void store(float* p, const V& v) {
    for (int i = 0; i < kBlock; ++i) p[i] = v.lane[i];
  }
  static V broadcast(float x) { return map([x](int) { return x; }); }
  static V fma(const V& a, const V& b, const V& c) { return map([&](int i) { return a.lane[i] * b.lane[i] + c.lane[i]; }); }
  static V add(const V& a, const V& b) { return map([&](int i) { return a.lane[i] + b.lane[i]; }); }
  static V max(const V& a, const V& b) { return map([&](int i) { return std::max(a.lane[i], b.lane[i]); }); }
  static V min(const V& a, const V& b) { return map([&](int i) { return std::min(a.lane[i], b.lane[i]); }); }
  static V leaky_relu(const V& v, float slope) {
    return map([&](int i) { return v.lane[i] < 0.f ? v.lane[i] * slope : v.lane[i]; });
  }
};

}  // namespace

const NchwcConvIsa& nchwc_conv_isa_scalar() { return kNchwcConvIsa<PortableVec>; }

}  // namespace kiln::kernels
