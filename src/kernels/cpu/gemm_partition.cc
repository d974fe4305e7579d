#include "kernels/cpu/gemm_partition.h"

namespace kiln::kernels {

GemmPartition::GemmPartition(int64_t M, int64_t N, int64_t K, int64_t mr, int64_t nr, int threads) : M_(M), N_(N) {
  const int64_t m_tiles = (M + mr - 1) / mr, n_tiles = (N + nr - 1) / nr;
  const double ops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  // Below ~100 k operations a thread hand-off costs more than it saves.
  if (threads <= 1 || ops < 1e5) return;
  const bool n_larger = N > M;
  const int64_t larger_tiles = n_larger ? n_tiles : m_tiles, smaller_tiles = n_larger ? m_tiles : n_tiles;
  split_n_ = (larger_tiles >= threads || larger_tiles >= smaller_tiles) == n_larger;
  tiles_ = split_n_ ? n_tiles : m_tiles;
  tile_ = split_n_ ? nr : mr;
  parts_ = std::min<int64_t>(threads, tiles_);
}

GemmBlock GemmPartition::block(int64_t t) const {
  if (parts_ == 1) return {0, M_, 0, N_};
  const int64_t extent = split_n_ ? N_ : M_;
  const int64_t begin = tiles_ * t / parts_ * tile_, end = std::min(extent, tiles_ * (t + 1) / parts_ * tile_);
  return split_n_ ? GemmBlock{0, M_, begin, end} : GemmBlock{begin, end, 0, N_};
}

}  // namespace kiln::kernels
