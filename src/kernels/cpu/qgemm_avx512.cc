// AVX-512 VNNI int8 GEMM tiles: 6 rows x 64 columns (four panels), 24 zmm accumulators. A step of
// 4 k loads one 64-byte group from each panel and, row by row, broadcasts A's 4 bytes, which
// vpdpbusd multiplies with every column's 4 codes and adds to its int32 lane. vpdpbusd takes its
// unsigned operand from a register, so each broadcast is a load of its own. Sapphire Rapids runs
// two 512-bit vpdpbusd per cycle (qgemm_bench's vnni_peak): a step's 24 take 12 cycles, room for
// its 10 loads, and 24 independent accumulators cover the 5-cycle latency (10 would). The
// zero-point compensation and the epilogue run on the accumulators in registers; partial tiles
// store through masks.

#include "kernels/cpu/avx512_intrinsics.h"
#include "kernels/cpu/qgemm_loops.h"

namespace kiln::kernels {
namespace {

constexpr int kMr = 6, kPanels = 4;

__mmask16 column_mask(int64_t cols) { return cols >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << cols) - 1); }

// (float)((int64_t)acc + bias) per lane, as requantize_ref computes it: from the int32 sum, unless
// that overflows (a bias near +-2^31), when the lanes are summed in int64.
__m512 sum_to_float(__m512i acc, __m512i bias) {
  const __m512i sum = _mm512_add_epi32(acc, bias);
  // Overflow is acc and bias sharing a sign that the sum lacks: the sign of (acc ^ sum) & (bias ^ sum).
  if (!_mm512_movepi32_mask(_mm512_ternarylogic_epi32(acc, bias, sum, 0x42))) return _mm512_cvtepi32_ps(sum);
  const auto wide = [](__m256i x, __m256i y) {
    return _mm512_cvtepi64_ps(_mm512_add_epi64(_mm512_cvtepi32_epi64(x), _mm512_cvtepi32_epi64(y)));
  };
  const __m256 low = wide(_mm512_castsi512_si256(acc), _mm512_castsi512_si256(bias));
  const __m256 high = wide(_mm512_extracti64x4_epi64(acc, 1), _mm512_extracti64x4_epi64(bias, 1));
  return _mm512_insertf32x8(_mm512_castps256_ps512(low), high, 1);
}

// The epilogues, one per output type, each storing 16 sums of a row (columns j..j+15, those in
// `mask`). Their parameters are copied once per tile into members: a store through a byte pointer
// may alias anything, and would otherwise reload them for every vector.
class Int32Output {
 public:
  explicit Int32Output(const QGemmCall&) {}
  void operator()(int32_t* y, __mmask16 mask, __m512i acc, int64_t) const { _mm512_mask_storeu_epi32(y, mask, acc); }
};

class FloatOutput {
 public:
  explicit FloatOutput(const QGemmCall& call)
      : scales_(call.epilogue->dequantize.scale_step ? call.epilogue->dequantize.scales : nullptr),
        bias_(call.epilogue->dequantize.bias),
        scale_(_mm512_set1_ps(call.epilogue->dequantize.scales[0])) {}
  void operator()(float* y, __mmask16 mask, __m512i acc, int64_t j) const {
    const __m512 scale = scales_ ? _mm512_maskz_loadu_ps(mask, scales_ + j) : scale_;
    const __m512 value = _mm512_cvtepi32_ps(acc);
    _mm512_mask_storeu_ps(
        y, mask,
        bias_ ? _mm512_fmadd_ps(value, scale, _mm512_maskz_loadu_ps(mask, bias_ + j)) : _mm512_mul_ps(value, scale));
  }

 private:
  const float *scales_, *bias_;  // scales_ when one per column
  __m512 scale_;
};

// Values are clamped before rounding (the same as after, the bounds being integers), which also
// keeps vcvtps2dq in range; it rounds to nearest even, as nearbyint does under the default mode.
// Results lie in [q_lo, q_hi], so truncating them to bytes is exact for uint8 and int8 alike.
class RequantizedOutput {
 public:
  explicit RequantizedOutput(const QGemmCall& call)
      : multipliers_(call.epilogue->requantize.multiplier_step ? call.epilogue->requantize.multipliers : nullptr),
        bias_(call.bias),
        multiplier_(_mm512_set1_ps(call.epilogue->requantize.multipliers[0])),
        lo_(_mm512_set1_ps(call.scaled_lo)),
        hi_(_mm512_set1_ps(call.scaled_hi)),
        zero_point_(_mm512_set1_epi32(call.epilogue->requantize.zero_point)),
        nan_value_(_mm512_set1_epi32(call.nan_value)) {}
  template <class Q>
  void operator()(Q* y, __mmask16 mask, __m512i acc, int64_t j) const {
    const __m512 value = bias_ ? sum_to_float(acc, _mm512_maskz_loadu_epi32(mask, bias_ + j)) : _mm512_cvtepi32_ps(acc);
    const __m512 multiplier = multipliers_ ? _mm512_maskz_loadu_ps(mask, multipliers_ + j) : multiplier_;
    const __m512 scaled = _mm512_mul_ps(value, multiplier);
    const __m512 clamped = _mm512_min_ps(_mm512_max_ps(scaled, lo_), hi_);
    __m512i out = _mm512_add_epi32(_mm512_cvtps_epi32(clamped), zero_point_);
    out = _mm512_mask_mov_epi32(out, _mm512_cmp_ps_mask(scaled, scaled, _CMP_UNORD_Q), nan_value_);
    _mm_mask_storeu_epi8(y, mask, _mm512_cvtepi32_epi8(out));
  }

 private:
  const float* multipliers_;  // when one per column
  const int32_t* bias_;
  __m512 multiplier_, lo_, hi_;
  __m512i zero_point_, nan_value_;
};

template <class Output, int Rows, int Panels, class T>
void store_tile(T* c, const __m512i (&acc)[Rows][Panels], const QGemmCall& call, const QGemmTile& t) {
  const Output output(call);
  __mmask16 masks[Panels];
  for (int v = 0; v < Panels; ++v) masks[v] = column_mask(t.cols - 16 * v);
  const int64_t ldc = call.epilogue->ldc;
  for (int r = 0; r < Rows; ++r)
    for (int v = 0; v < Panels; ++v) output(c + (t.i + r) * ldc + t.j + 16 * v, masks[v], acc[r][v], t.j + 16 * v);
}

template <int Rows, int Panels>
void tile(const QGemmCall& call, const QGemmTile& t) {
  __m512i acc[Rows][Panels];
  for (auto& row : acc)
    for (auto& v : row) v = _mm512_setzero_si512();
  const int64_t panel_bytes = call.b->panel_bytes();
  const TileRows<Rows> tile_rows(call, t);
  const int8_t* group = call.b->panel(t.j);
  for (const GroupRun& run : tile_rows.runs())
    for (int64_t g = 0; g < run.groups; ++g, group += 64) {
      __m512i b[Panels];
#pragma GCC unroll 4
      for (int v = 0; v < Panels; ++v) b[v] = _mm512_load_si512(group + v * panel_bytes);
#pragma GCC unroll 6
      for (int r = 0; r < Rows; ++r) {
        const __m512i av = _mm512_set1_epi32(load_quad(run.a + r * run.lda + 4 * g));
#pragma GCC unroll 4
        for (int v = 0; v < Panels; ++v) acc[r][v] = _mm512_dpbusd_epi32(acc[r][v], av, b[v]);
      }
    }

  const int32_t* offsets = call.col_offsets + t.j;
  for (int v = 0; v < Panels; ++v) {
    const __m512i offset = _mm512_load_si512(offsets + 16 * v);
    for (int r = 0; r < Rows; ++r) acc[r][v] = _mm512_add_epi32(acc[r][v], offset);
  }
  if (t.row_sums) {
    const int32_t* zero_points = call.b->zero_points() + t.j;
    for (int v = 0; v < Panels; ++v) {
      const __m512i zero_point = _mm512_load_si512(zero_points + 16 * v);
      for (int r = 0; r < Rows; ++r)
        acc[r][v] = _mm512_sub_epi32(acc[r][v], _mm512_mullo_epi32(zero_point, _mm512_set1_epi32(t.row_sums[r])));
    }
  }
  const auto& c = call.epilogue->c;
  if (const auto* y = std::get_if<int32_t*>(&c)) return store_tile<Int32Output>(*y, acc, call, t);
  if (const auto* y = std::get_if<uint8_t*>(&c)) return store_tile<RequantizedOutput>(*y, acc, call, t);
  if (const auto* y = std::get_if<int8_t*>(&c)) return store_tile<RequantizedOutput>(*y, acc, call, t);
  store_tile<FloatOutput>(std::get<float*>(c), acc, call, t);
}

template <int Rows>
constexpr QGemmTileFn kByPanels[] = {&tile<Rows, 1>, &tile<Rows, 2>, &tile<Rows, 3>, &tile<Rows, 4>};

void any_tile(const QGemmCall& call, const QGemmTile& t) {
  static constexpr const QGemmTileFn* kTiles[kMr] = {kByPanels<1>, kByPanels<2>, kByPanels<3>,
                                                     kByPanels<4>, kByPanels<5>, kByPanels<6>};
  kTiles[t.rows - 1][(t.cols + 15) / 16 - 1](call, t);
}

}  // namespace

const QGemmIsa& qgemm_isa_avx512() {
  static const QGemmIsa isa{kMr, 16 * kPanels, &any_tile, &sum_rows};
  return isa;
}

}  // namespace kiln::kernels
