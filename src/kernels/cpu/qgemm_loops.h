// The int8 GEMM's plain loops, written once and compiled by each qgemm_<level>.cc with its
// instruction set, so the compiler vectorizes them as wide as the level allows: A's row sums, A's
// groups of 4 bytes, and the epilogue of the levels whose kernels leave a tile's sums in memory.
// Internal linkage for the reason given in tile_epilogue.h.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <variant>

#include "kernels/cpu/qgemm_isa.h"

namespace kiln::kernels {
namespace {

[[maybe_unused]] void sum_rows(const uint8_t* a, int64_t lda, int64_t rows, int64_t K, int32_t* sums) {
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* row = a + r * lda;
    int32_t sum = 0;
    for (int64_t k = 0; k < K; ++k) sum += row[k];
    sums[r] = sum;
  }
}

[[maybe_unused]] int32_t load_quad(const uint8_t* p) {
  int32_t quad;
  std::memcpy(&quad, p, 4);
  return quad;
}

// Row r's group g of 4 bytes of A at a + r * lda + 4 * g, for g < groups.
struct GroupRun {
  const uint8_t* a;
  int64_t lda, groups;
};

// A tile's rows of A as the kernels read them, 4 bytes at a time, in two runs: the whole groups in
// place, then (if K % 4) each row's last group from a zero-padded copy, so that no read passes
// the end of a row. B's codes past K are zero, so the padding adds nothing.
template <int Rows>
class TileRows {
 public:
  TileRows(const QGemmCall& call, const QGemmTile& t) {
    const uint8_t* a = call.a + t.i * call.lda;
    const int64_t groups = call.K / 4, rest = call.K % 4;
    if (rest)
      for (int r = 0; r < Rows; ++r) std::memcpy(last_[r], a + r * call.lda + 4 * groups, static_cast<size_t>(rest));
    runs_ = {GroupRun{a, call.lda, groups}, GroupRun{last_[0], 4, rest != 0}};
  }
  TileRows(const TileRows&) = delete;  // runs_ points into last_
  TileRows& operator=(const TileRows&) = delete;
  const std::array<GroupRun, 2>& runs() const { return runs_; }

 private:
  uint8_t last_[Rows][4] = {};
  std::array<GroupRun, 2> runs_;
};

[[maybe_unused]] void store_row(const int32_t* sums, int64_t cols, int32_t* y, int64_t, const QGemmCall&) {
  std::copy(sums, sums + cols, y);
}

[[maybe_unused]] void store_row(const int32_t* sums, int64_t cols, float* y, int64_t j, const QGemmCall& call) {
  const Dequantization& d = call.epilogue->dequantize;
  for (int64_t n = 0; n < cols; ++n) {
    const float value = static_cast<float>(sums[n]), scale = d.scales[(j + n) * d.scale_step];
    y[n] = d.bias ? std::fma(value, scale, d.bias[j + n]) : value * scale;
  }
}

template <class Q>
[[maybe_unused]] void store_row(const int32_t* sums, int64_t cols, Q* y, int64_t j, const QGemmCall& call) {
  const Requantization& q = call.epilogue->requantize;
  for (int64_t n = 0; n < cols; ++n) {
    const float value =
        call.bias ? static_cast<float>(int64_t{sums[n]} + call.bias[j + n]) : static_cast<float>(sums[n]);
    const float scaled = value * q.multipliers[(j + n) * q.multiplier_step];
    // Clamping before rounding is the same as after, the bounds being integers.
    y[n] = static_cast<Q>(
        std::isnan(scaled)
            ? call.nan_value
            : static_cast<int32_t>(std::nearbyint(std::clamp(scaled, call.scaled_lo, call.scaled_hi))) + q.zero_point);
  }
}

// Tile t's sums, acc[r * kNr + n] for column t.j + n (wrapping int32 kept as uint32), compensated
// for the zero points and written through the call's epilogue.
template <int64_t kNr>
[[maybe_unused]] void finish_tile(const uint32_t* acc, const QGemmCall& call, const QGemmTile& t) {
  const QGemmEpilogue& e = *call.epilogue;
  const int32_t* offsets = call.col_offsets + t.j;
  const int32_t* zero_points = t.row_sums ? call.b->zero_points() + t.j : nullptr;
  for (int64_t r = 0; r < t.rows; ++r) {
    int32_t sums[kNr];
    for (int64_t n = 0; n < t.cols; ++n) {
      uint32_t sum = acc[r * kNr + n] + static_cast<uint32_t>(offsets[n]);
      if (zero_points) sum -= static_cast<uint32_t>(zero_points[n]) * static_cast<uint32_t>(t.row_sums[r]);
      sums[n] = static_cast<int32_t>(sum);
    }
    std::visit([&](auto* c) { store_row(sums, t.cols, c + (t.i + r) * e.ldc + t.j, t.j, call); }, e.c);
  }
}

}  // namespace
}  // namespace kiln::kernels
