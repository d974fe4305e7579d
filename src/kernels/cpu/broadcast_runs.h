// A binary broadcast seen as runs for vectorized kernels: the output's innermost dim (after
// merging the dims that both inputs read contiguously, or both broadcast, and dropping size-1
// dims) is a run in which each input is either a contiguous vector or one repeated element. The
// common cases all become few long runs: same shapes and a scalar operand are one run; a
// per-channel [1,C,1,1] against [N,C,H,W] is N*C runs of H*W against one element; a row vector
// [K] against [M,K] is M runs of K against the same K values.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/vec_isa.h"
#include "kiln/tensor.h"

namespace kiln::kernels {

struct BroadcastRuns {
  int64_t run = 1;  // output elements per run
  Operand a_form = Operand::Vector, b_form = Operand::Vector;
  // The merged outer dims, outermost first, and each input's element stride along them (0 where
  // it broadcasts).
  std::vector<int64_t> dims, a_strides, b_strides;

  int64_t rows() const;
};

// `a` and `b` broadcast to `out` (which must be their broadcast shape).
BroadcastRuns broadcast_runs(const Shape& a, const Shape& b, const Shape& out);

// Calls fn(out_offset, a_offset, b_offset) for runs [begin, end), in order.
template <class F>
void for_each_run(const BroadcastRuns& runs, int64_t begin, int64_t end, F&& fn) {
  const size_t rank = runs.dims.size();
  std::vector<int64_t> index(rank);
  int64_t a_offset = 0, b_offset = 0;
  for (size_t d = rank, rest = static_cast<size_t>(begin); d-- > 0;) {
    index[d] = static_cast<int64_t>(rest) % runs.dims[d];
    rest /= static_cast<size_t>(runs.dims[d]);
    a_offset += index[d] * runs.a_strides[d];
    b_offset += index[d] * runs.b_strides[d];
  }
  for (int64_t row = begin; row < end; ++row) {
    fn(row * runs.run, a_offset, b_offset);
    for (size_t d = rank; d-- > 0;) {
      a_offset += runs.a_strides[d];
      b_offset += runs.b_strides[d];
      if (++index[d] < runs.dims[d]) break;
      a_offset -= runs.a_strides[d] * runs.dims[d];
      b_offset -= runs.b_strides[d] * runs.dims[d];
      index[d] = 0;
    }
  }
}

// Calls fn(out_offset, a_offset, b_offset, length) for pieces of runs covering the output, split
// across the pool so that a task covers about kElementwiseGrain elements: short runs are grouped,
// long runs (a same-shape or scalar op is one run) are cut.
template <class F>
void parallel_for_each_run(ThreadPool& pool, const BroadcastRuns& runs, F&& fn) {
  const int64_t run = runs.run;
  if (run == 0) return;
  const int64_t pieces = (run + kElementwiseGrain - 1) / kElementwiseGrain;
  if (pieces == 1) {
    pool.parallel_for(
        runs.rows(),
        [&](int64_t begin, int64_t end) {
          for_each_run(runs, begin, end, [&](int64_t o, int64_t a, int64_t b) { fn(o, a, b, run); });
        },
        std::max<int64_t>(1, kElementwiseGrain / run));
    return;
  }
  const int64_t piece = (run + pieces - 1) / pieces;
  const int64_t a_step = runs.a_form == Operand::Vector ? 1 : 0, b_step = runs.b_form == Operand::Vector ? 1 : 0;
  pool.parallel_for(runs.rows() * pieces, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t row = item / pieces, start = item % pieces * piece;
      for_each_run(runs, row, row + 1, [&](int64_t o, int64_t a, int64_t b) {
        fn(o + start, a + start * a_step, b + start * b_step, std::min(piece, run - start));
      });
    }
  });
}

}  // namespace kiln::kernels
