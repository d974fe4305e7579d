// How the GEMMs (sgemm.h, qgemm.h) share C among a pool's threads: one rectangle of whole tiles
// per thread, cut along M or N.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/thread_pool.h"

namespace kiln::kernels {

// A rectangle of C in whole tiles (edges may hold partial tiles), computed by one thread.
struct GemmBlock {
  int64_t i_begin, i_end, j_begin, j_end;
};

// Every thread reads all of the side that is not split (and packs it, if it is not pre-packed), so
// the larger side is split: A is M x K and B is K x N, so that is N when N > M. A MatMul over 128
// tokens against 768 x 3072 weights then has each thread stream half of the weights rather than
// all of them. A side with too few tiles to give each thread one is not split.
class GemmPartition {
 public:
  GemmPartition(int64_t M, int64_t N, int64_t K, int64_t mr, int64_t nr, int threads);
  int64_t size() const { return parts_; }
  GemmBlock block(int64_t t) const;

 private:
  int64_t M_, N_;
  int64_t parts_ = 1, tiles_ = 1, tile_ = 1;  // parts_ blocks of whole tiles of tile_ rows or columns
  bool split_n_ = false;
};

// Calls compute(block) for each block of C, on the pool's threads; a null pool computes all of C
// as one block on the calling thread (for callers that parallelize over many small GEMMs).
template <class Compute>
void for_each_gemm_block(int64_t M, int64_t N, int64_t K, int64_t mr, int64_t nr, ThreadPool* pool,
                         const Compute& compute) {
  const GemmPartition partition(M, N, K, mr, nr, pool ? pool->size() : 1);
  if (partition.size() == 1) return compute(partition.block(0));
  pool->parallel_for(partition.size(), [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) compute(partition.block(t));
  });
}

}  // namespace kiln::kernels
