#include "kernels/cpu/reduce_ref.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

namespace kiln::kernels {
namespace {

template <class T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(v);
  else return false;
}

// Converts a finished result to the output type. Integer outputs truncate as numpy's astype does,
// and saturate where the value does not fit (the log of 0, NaN) rather than invoke undefined behaviour.
template <class T, class V>
T to_output(V v) {
  if constexpr (std::is_integral_v<T> && std::is_floating_point_v<V>) {
    if (std::isnan(v)) return 0;
    if (v <= static_cast<V>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    if (v >= static_cast<V>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
  }
  return static_cast<T>(v);
}

// Floats accumulate in double so that long sums keep their precision; integers in int64, so that an
// int32 sum that leaves int32's range wraps on output as numpy's does (numpy also sums in int64).
template <class T>
using Accumulator = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

// A reducer folds one output's reduction set: init() is the accumulator of the empty set, add()
// folds one element, finish() turns the accumulator and the set's size into the output value.

struct Identity { template <class A> A operator()(A a) const { return a; } };
struct Absolute { template <class A> A operator()(A a) const { return a < 0 ? -a : a; } };
struct Square { template <class A> A operator()(A a) const { return a * a; } };
struct KeepSum { template <class A> A operator()(A sum, int64_t) const { return sum; } };
struct SqrtOfSum { template <class A> double operator()(A sum, int64_t) const { return std::sqrt(static_cast<double>(sum)); } };
struct LogOfSum { template <class A> double operator()(A sum, int64_t) const { return std::log(static_cast<double>(sum)); } };
struct SumOverCount {
  template <class A>
  A operator()(A sum, int64_t count) const {
    if constexpr (std::is_integral_v<A>) {
      if (count == 0) return 0;
    }
    return sum / static_cast<A>(count);
  }
};

// Sum-based reductions: map each element (Pre), sum, then map the sum (Post).
template <class T, class Pre, class Post>
struct SumReducer {
  using Acc = Accumulator<T>;
  static Acc init() { return 0; }
  static void add(Acc& acc, T x) { acc += Pre{}(static_cast<Acc>(x)); }
  static T finish(Acc acc, int64_t count) { return to_output<T>(Post{}(acc, count)); }
};

template <class T> using SumOf = SumReducer<T, Identity, KeepSum>;
template <class T> using MeanOf = SumReducer<T, Identity, SumOverCount>;
template <class T> using L1Of = SumReducer<T, Absolute, KeepSum>;
template <class T> using L2Of = SumReducer<T, Square, SqrtOfSum>;
template <class T> using SumSquareOf = SumReducer<T, Square, KeepSum>;
template <class T> using LogSumOf = SumReducer<T, Identity, LogOfSum>;

template <class T>
struct ProdOf {
  using Acc = Accumulator<T>;
  static Acc init() { return 1; }
  static void add(Acc& acc, T x) { acc *= x; }
  static T finish(Acc acc, int64_t) { return to_output<T>(acc); }
};

// Max (kFindMax) or Min. NaN wins over every number and then stays, as numpy's max does.
template <class T, bool kFindMax>
struct ExtremeOf {
  using Acc = T;
  static Acc init() {
    using L = std::numeric_limits<T>;
    if constexpr (L::has_infinity) return kFindMax ? -L::infinity() : L::infinity();
    else return kFindMax ? L::lowest() : L::max();
  }
  static void add(Acc& acc, T x) {
    if (is_nan(x) || (kFindMax ? x > acc : x < acc)) acc = x;
  }
  static T finish(Acc acc, int64_t) { return acc; }
};
template <class T> using MaxOf = ExtremeOf<T, true>;
template <class T> using MinOf = ExtremeOf<T, false>;

// log(sum(exp(x))) computed as max + log(sum(exp(x - max))) with a running max, so that large
// inputs do not overflow exp.
template <class T>
struct LogSumExpOf {
  struct Acc {
    double max = -std::numeric_limits<double>::infinity();
    double sum = 0;  // of exp(x - max)
  };
  static Acc init() { return {}; }
  static void add(Acc& acc, T x) {
    const double v = static_cast<double>(x);
    if (v > acc.max) {
      acc.sum = acc.sum * std::exp(acc.max - v) + 1;
      acc.max = v;
    } else if (v == acc.max) {
      acc.sum += 1;  // also keeps inf - inf out of exp
    } else {
      acc.sum += std::exp(v - acc.max);
    }
  }
  static T finish(Acc acc, int64_t) { return to_output<T>(acc.max + std::log(acc.sum)); }
};

template <template <class> class Reducer, class T>
void reduce_with(const T* in, const Shape& in_shape, const std::vector<int64_t>& axes, T* out, ThreadPool& pool) {
  using R = Reducer<T>;
  const size_t rank = in_shape.size();
  std::vector<int64_t> strides(rank, 1);
  for (size_t a = rank; a-- > 1;) strides[a - 1] = strides[a] * in_shape[a];
  std::vector<bool> is_reduced(rank, false);
  for (int64_t axis : axes) is_reduced[static_cast<size_t>(axis)] = true;

  // The trailing reduced axes form one contiguous run; the other reduced axes are enumerated as
  // offsets of such runs, in increasing order, relative to the first element of the set.
  int64_t run = 1;
  size_t run_begin = rank;
  while (run_begin > 0 && is_reduced[run_begin - 1]) run *= in_shape[--run_begin];
  std::vector<int64_t> run_offsets{0};
  for (size_t a = 0; a < run_begin; ++a) {
    if (!is_reduced[a]) continue;
    std::vector<int64_t> next;
    next.reserve(run_offsets.size() * static_cast<size_t>(in_shape[a]));
    for (int64_t base : run_offsets)
      for (int64_t k = 0; k < in_shape[a]; ++k) next.push_back(base + k * strides[a]);
    run_offsets = std::move(next);
  }
  const int64_t set_size = run * static_cast<int64_t>(run_offsets.size());

  Shape kept_dims;
  std::vector<int64_t> kept_strides;
  for (size_t a = 0; a < rank; ++a) {
    if (is_reduced[a]) continue;
    kept_dims.push_back(in_shape[a]);
    kept_strides.push_back(strides[a]);
  }
  const int64_t out_count = shape_numel(kept_dims);
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, set_size));
  pool.parallel_for(out_count, [&](int64_t begin, int64_t end) {
    // The multi-index over the kept axes of output `begin`, and the input offset it starts at.
    std::vector<int64_t> index(kept_dims.size());
    int64_t base = 0;
    for (size_t a = kept_dims.size(), rest = static_cast<size_t>(begin); a-- > 0;) {
      index[a] = static_cast<int64_t>(rest % static_cast<size_t>(kept_dims[a]));
      rest /= static_cast<size_t>(kept_dims[a]);
      base += index[a] * kept_strides[a];
    }
    for (int64_t i = begin; i < end; ++i) {
      auto acc = R::init();
      for (int64_t offset : run_offsets) {
        const T* p = in + base + offset;
        for (int64_t r = 0; r < run; ++r) R::add(acc, p[r]);
      }
      out[i] = R::finish(acc, set_size);
      for (size_t a = kept_dims.size(); a-- > 0;) {
        ++index[a];
        base += kept_strides[a];
        if (index[a] < kept_dims[a]) break;
        base -= kept_strides[a] * kept_dims[a];
        index[a] = 0;
      }
    }
  }, grain);
}

}  // namespace

template <class T>
void compute_reduce(ReduceKind kind, const T* in, const Shape& in_shape, const std::vector<int64_t>& axes, T* out,
                    ThreadPool& pool) {
  switch (kind) {
    case ReduceKind::Sum: return reduce_with<SumOf>(in, in_shape, axes, out, pool);
    case ReduceKind::Mean: return reduce_with<MeanOf>(in, in_shape, axes, out, pool);
    case ReduceKind::Max: return reduce_with<MaxOf>(in, in_shape, axes, out, pool);
    case ReduceKind::Min: return reduce_with<MinOf>(in, in_shape, axes, out, pool);
    case ReduceKind::Prod: return reduce_with<ProdOf>(in, in_shape, axes, out, pool);
    case ReduceKind::L1: return reduce_with<L1Of>(in, in_shape, axes, out, pool);
    case ReduceKind::L2: return reduce_with<L2Of>(in, in_shape, axes, out, pool);
    case ReduceKind::LogSum: return reduce_with<LogSumOf>(in, in_shape, axes, out, pool);
    case ReduceKind::LogSumExp: return reduce_with<LogSumExpOf>(in, in_shape, axes, out, pool);
    case ReduceKind::SumSquare: return reduce_with<SumSquareOf>(in, in_shape, axes, out, pool);
  }
}

template <class T>
void compute_arg_reduce(const T* in, int64_t outer, int64_t n, int64_t inner, bool find_max, bool select_last,
                        int64_t* out) {
  // Whether x takes the place of the current best: strictly more extreme, or as extreme with
  // select_last. NaN is the most extreme of all.
  const auto replaces = [&](T x, T best) {
    if (is_nan(best)) return select_last && is_nan(x);
    if (is_nan(x)) return true;
    if (x == best) return select_last;
    return find_max ? x > best : x < best;
  };
  // Rows along the reduced axis are scanned in memory order, keeping the best index per column.
  for (int64_t o = 0; o < outer; ++o) {
    const T* slab = in + o * n * inner;
    int64_t* best = out + o * inner;
    std::fill(best, best + inner, int64_t{0});
    for (int64_t k = 1; k < n; ++k) {
      const T* row = slab + k * inner;
      for (int64_t i = 0; i < inner; ++i)
        if (replaces(row[i], slab[best[i] * inner + i])) best[i] = k;
    }
  }
}

#define KILN_INSTANTIATE_REDUCE(T)                                                                               \
  template void compute_reduce<T>(ReduceKind, const T*, const Shape&, const std::vector<int64_t>&, T*, ThreadPool&); \
  template void compute_arg_reduce<T>(const T*, int64_t, int64_t, int64_t, bool, bool, int64_t*);
KILN_INSTANTIATE_REDUCE(float)
KILN_INSTANTIATE_REDUCE(double)
KILN_INSTANTIATE_REDUCE(int32_t)
KILN_INSTANTIATE_REDUCE(int64_t)
#undef KILN_INSTANTIATE_REDUCE

}  // namespace kiln::kernels
