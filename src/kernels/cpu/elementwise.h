// Elementwise maps: a parallel one-to-one map over dense buffers, and a map over broadcast inputs
// whose element types may differ from each other and from the output's (Pow's integer exponent,
// Where's bool condition).
#pragma once

#include <array>
#include <tuple>
#include <utility>

#include "core/thread_pool.h"
#include "kernels/cpu/broadcast.h"

namespace kiln::kernels {

// Elements per parallel chunk: enough work to pay for handing a chunk to another thread.
inline constexpr int64_t kElementwiseGrain = 16384;

// out[i] = fn(in[i]) for i in [0, n), split across the pool.
template <class In, class Out, class F>
void parallel_map(ThreadPool& pool, const In* in, Out* out, int64_t n, const F& fn) {
  pool.parallel_for(
      n,
      [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) out[i] = fn(in[i]);
      },
      kElementwiseGrain);
}

// out[i] = fn(a[ia], b[ib], ...) with each input read at its broadcast position. In... are the
// inputs' element types in order; `out` must already have the broadcast shape and type Out.
//   broadcast_map<float, float, int64_t>(out, {&base, &exponent}, [](float b, int64_t e) { ... });
template <class Out, class... In, class F>
void broadcast_map(Tensor& out, const std::array<const Tensor*, sizeof...(In)>& inputs, F&& fn) {
  std::vector<int64_t> strides[sizeof...(In)];
  for (size_t k = 0; k < inputs.size(); ++k) strides[k] = broadcast_strides(inputs[k]->shape(), out.shape());
  Out* result = static_cast<Out*>(out.raw());
  [&]<size_t... K>(std::index_sequence<K...>) {
    const std::tuple<const In*...> data{static_cast<const In*>(inputs[K]->raw())...};
    for_each_broadcast(out.shape(), strides,
                       [&](int64_t i, const int64_t* offsets) { result[i] = fn(std::get<K>(data)[offsets[K]]...); });
  }(std::index_sequence_for<In...>{});
}

}  // namespace kiln::kernels
