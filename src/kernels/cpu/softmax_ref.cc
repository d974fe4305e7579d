#include "kernels/cpu/softmax_ref.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace kiln::kernels {
namespace {

// For one [n, inner] block: max[j] and sum[j] over the axis, with y = exp(x - max) left in y.
// The inner index is the fastest-moving one in every loop so that each loop is contiguous.
template <class T>
void exp_shifted_by_max(const T* x, T* y, int64_t n, int64_t inner, std::vector<T>& max, std::vector<T>& sum) {
  std::fill(max.begin(), max.end(), -std::numeric_limits<T>::infinity());
  std::fill(sum.begin(), sum.end(), T(0));
  for (int64_t k = 0; k < n; ++k)
    for (int64_t j = 0; j < inner; ++j) max[j] = std::max(max[j], x[k * inner + j]);
  for (int64_t k = 0; k < n; ++k)
    for (int64_t j = 0; j < inner; ++j) {
      const T e = std::exp(x[k * inner + j] - max[j]);
      y[k * inner + j] = e;
      sum[j] += e;
    }
}

template <class T>
void log_softmax(const T* x, T* y, int64_t outer, int64_t n, int64_t inner) {
  std::vector<T> max(static_cast<size_t>(inner)), sum(static_cast<size_t>(inner));
  for (int64_t o = 0; o < outer; ++o) {
    const int64_t base = o * n * inner;
    exp_shifted_by_max(x + base, y + base, n, inner, max, sum);
    // log(softmax) = x - max - log(sum): never takes the log of an underflowed exp.
    for (int64_t j = 0; j < inner; ++j) max[j] += std::log(sum[j]);
    for (int64_t k = 0; k < n; ++k)
      for (int64_t j = 0; j < inner; ++j) y[base + k * inner + j] = x[base + k * inner + j] - max[j];
  }
}

}  // namespace

void softmax_ref(const float* x, float* y, int64_t outer, int64_t n, int64_t inner) {
  std::vector<float> max(static_cast<size_t>(inner)), sum(static_cast<size_t>(inner));
  for (int64_t o = 0; o < outer; ++o) {
    const int64_t base = o * n * inner;
    exp_shifted_by_max(x + base, y + base, n, inner, max, sum);
    for (float& s : sum) s = 1.f / s;
    for (int64_t k = 0; k < n; ++k)
      for (int64_t j = 0; j < inner; ++j) y[base + k * inner + j] *= sum[j];
  }
}

void log_softmax_ref(const float* x, float* y, int64_t outer, int64_t n, int64_t inner) {
  log_softmax(x, y, outer, n, inner);
}

void log_softmax_ref(const double* x, double* y, int64_t outer, int64_t n, int64_t inner) {
  log_softmax(x, y, outer, n, inner);
}

void hardmax_ref(const float* x, float* y, int64_t outer, int64_t n, int64_t inner) {
  std::vector<int64_t> argmax(static_cast<size_t>(inner));
  for (int64_t o = 0; o < outer; ++o) {
    const int64_t base = o * n * inner;
    std::fill(argmax.begin(), argmax.end(), 0);
    for (int64_t k = 1; k < n; ++k)
      for (int64_t j = 0; j < inner; ++j)
        if (x[base + k * inner + j] > x[base + argmax[j] * inner + j]) argmax[j] = k;
    for (int64_t k = 0; k < n; ++k)
      for (int64_t j = 0; j < inner; ++j) y[base + k * inner + j] = argmax[j] == k ? 1.f : 0.f;
  }
}

}  // namespace kiln::kernels
