#include "kernels/cpu/qgemm.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <new>

#include "core/aligned_buffer.h"
#include "kernels/cpu/gemm_partition.h"
#include "kernels/cpu/qgemm_isa.h"

namespace kiln::kernels {
namespace {

// The rows of A that one pass over B's strips meets, mc * K bytes: they stay in L2 (1-2 MB per
// core on the CPUs with VNNI) while each 64-column strip of B, read from memory once per pass,
// meets all of them tile by tile. K itself is not blocked: a strip is K * 64 bytes, in L2 up to
// K = 8192, so the tiles read B from L1 or L2 either way and keep every sum in registers to the end.
constexpr int64_t kABlockBytes = 512 * 1024;

const QGemmIsa& qgemm_isa(CpuLevel level) {
  switch (level) {
    case CpuLevel::Avx512: return qgemm_isa_avx512();
    case CpuLevel::Avx2: return qgemm_isa_avx2();
    case CpuLevel::Scalar: break;
  }
  return qgemm_isa_scalar();
}

// B's element (k, j) as stored: int8 as it is, uint8 lowered by 128.
int8_t stored_code(const QuantWeightsView& b, int64_t k, int64_t j) {
  const int64_t index = b.transposed ? j * b.ld + k : k * b.ld + j;
  if (b.is_signed) return static_cast<const int8_t*>(b.data)[index];
  return static_cast<int8_t>(static_cast<const uint8_t*>(b.data)[index] ^ 0x80);
}

// The clamp of requantized outputs of type Q (QGemmCall).
template <class Q>
void set_requantize_bounds(const Requantization& q, QGemmCall& call) {
  call.q_lo = std::max<int32_t>(q.qmin, std::numeric_limits<Q>::lowest());
  call.q_hi = std::min<int32_t>(q.qmax, std::numeric_limits<Q>::max());
  call.nan_value = std::clamp(0, call.q_lo, call.q_hi);
  call.scaled_lo = static_cast<float>(call.q_lo - q.zero_point);
  call.scaled_hi = static_cast<float>(call.q_hi - q.zero_point);
}

// Whether no sum plus its bias can leave int32, so that adding the bias to the column offsets in
// int32 equals requantize_ref's int64 addition: |a - za| <= max(|za|, |255 - za|) and
// |b - zb| <= 128 + |zb| for stored codes. In double, which is exact far beyond the bound.
bool bias_fits_int32(int64_t K, int32_t a_zero_point, const PackedQuantWeights& b, const int32_t* bias) {
  const double a_max = std::max(std::abs(static_cast<double>(a_zero_point)), std::abs(255.0 - a_zero_point));
  for (int64_t j = 0; j < b.cols(); ++j) {
    const double b_max = 128.0 + std::abs(static_cast<double>(b.zero_points()[j]));
    if (static_cast<double>(K) * a_max * b_max + std::abs(static_cast<double>(bias[j])) > INT32_MAX) return false;
  }
  return true;
}

// QGemmCall::col_offsets into `offsets`: K * za * zb[j] - za * colsum[j] (+ bias[j]), wrapping.
void column_offsets(int64_t K, int32_t a_zero_point, const PackedQuantWeights& b, const int32_t* bias,
                    int32_t* offsets) {
  const auto za = static_cast<uint32_t>(a_zero_point);
  for (int64_t j = 0; j < b.padded_cols(); ++j) {
    uint32_t offset = static_cast<uint32_t>(K) * za * static_cast<uint32_t>(b.zero_points()[j]) -
                      za * static_cast<uint32_t>(b.column_sums()[j]);
    if (bias && j < b.cols()) offset += static_cast<uint32_t>(bias[j]);
    offsets[j] = static_cast<int32_t>(offset);
  }
}

void compute_block(const QGemmIsa& isa, const QGemmCall& call, const GemmBlock& block) {
  const int32_t* row_sums = nullptr;
  if (!call.b->symmetric()) {
    thread_local AlignedBuffer<int32_t> sums;
    sums.resize_discarding(static_cast<size_t>(block.i_end - block.i_begin));
    isa.row_sums(call.a + block.i_begin * call.lda, call.lda, block.i_end - block.i_begin, call.K, sums.data());
    row_sums = sums.data();
  }
  const int64_t mc = std::max(isa.mr, kABlockBytes / std::max<int64_t>(call.K, 1) / isa.mr * isa.mr);
  for (int64_t ic = block.i_begin; ic < block.i_end; ic += mc) {
    const int64_t i_end = std::min(ic + mc, block.i_end);
    for (int64_t j = block.j_begin; j < block.j_end; j += isa.nr)
      for (int64_t i = ic; i < i_end; i += isa.mr)
        isa.tile(call, {i, j, std::min(isa.mr, i_end - i), std::min(isa.nr, block.j_end - j),
                        row_sums ? row_sums + (i - block.i_begin) : nullptr});
  }
}

}  // namespace

PackedQuantWeights PackedQuantWeights::pack(int64_t K, int64_t N, const QuantWeightsView& b, WeightStore& store,
                                            std::string_view key) {
  PackedQuantWeights packed;
  packed.K_ = K;
  packed.N_ = N;
  const int64_t padded = packed.padded_cols(), panel_bytes = packed.panel_bytes();
  // Per column: a sum and a zero point (int32 each), and a panel's share of codes.
  const int64_t column_bytes = 8 + panel_bytes / kPanel;
  if (padded > 0 && column_bytes > INT64_MAX / padded) throw std::bad_alloc();
  packed.data_ = store.get(key, static_cast<size_t>(padded * column_bytes), [&](std::byte* out) {
    auto* sums = reinterpret_cast<int32_t*>(out);
    int32_t* zero_points = sums + padded;
    auto* codes = reinterpret_cast<int8_t*>(zero_points + padded);
    for (int64_t j = 0; j < N; ++j) {
      const int32_t zero_point = b.zero_points ? b.zero_points[j * b.zero_point_step] : 0;
      zero_points[j] = b.is_signed ? zero_point : zero_point - 128;
      int8_t* column = codes + j / kPanel * panel_bytes + j % kPanel * 4;
      for (int64_t k = 0; k < K; ++k) {
        const int8_t code = stored_code(b, k, j);
        column[k / 4 * 64 + k % 4] = code;
        sums[j] += code;
      }
    }
  });
  // From the packed bytes, which an engine file's copy may have supplied instead of `b`.
  packed.symmetric_ = std::all_of(packed.zero_points(), packed.zero_points() + N, [](int32_t z) { return z == 0; });
  return packed;
}

void qgemm(CpuLevel level, int64_t M, const uint8_t* a, int64_t lda, int32_t a_zero_point, const PackedQuantWeights& b,
           const QGemmEpilogue& epilogue, ThreadPool* pool) {
  const int64_t N = b.cols(), K = b.rows();
  if (M <= 0 || N <= 0) return;
  const bool requantized = std::holds_alternative<uint8_t*>(epilogue.c) || std::holds_alternative<int8_t*>(epilogue.c);
  const int32_t* bias = requantized ? epilogue.requantize.bias : nullptr;
  // The bias joins the offsets whenever it can (it takes K * 255 * 256 + |bias| >= 2^31 to stop it),
  // which spares every output its exact int64 addition.
  const bool fold_bias = bias && bias_fits_int32(K, a_zero_point, b, bias);
  // Kept between calls; the workers read the caller's copy.
  thread_local AlignedBuffer<int32_t> offsets;
  offsets.resize_discarding(static_cast<size_t>(b.padded_cols()));
  column_offsets(K, a_zero_point, b, fold_bias ? bias : nullptr, offsets.data());
  QGemmCall call{a, lda, K, &b, offsets.data(), &epilogue, fold_bias ? nullptr : bias, 0, 0, 0, 0.f, 0.f};
  if (std::holds_alternative<uint8_t*>(epilogue.c)) set_requantize_bounds<uint8_t>(epilogue.requantize, call);
  if (std::holds_alternative<int8_t*>(epilogue.c)) set_requantize_bounds<int8_t>(epilogue.requantize, call);
  const QGemmIsa& isa = qgemm_isa(level);
  for_each_gemm_block(M, N, K, isa.mr, isa.nr, pool, [&](const GemmBlock& block) { compute_block(isa, call, block); });
}

}  // namespace kiln::kernels
