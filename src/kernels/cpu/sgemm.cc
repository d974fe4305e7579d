#include "kernels/cpu/sgemm.h"

#include <algorithm>
#include <new>

#include "core/aligned_buffer.h"
#include "kernels/cpu/gemm_partition.h"
#include "kernels/cpu/sgemm_microkernel.h"
#include "kiln/error.h"

namespace kiln::kernels {
namespace {

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

struct GemmProblem {
  const GemmIsa& isa;
  int64_t M, N, K;
  const GemmA& a;
  const GemmB& b;
  float* c;
  int64_t ldc;
  const GemmEpilogue& epilogue;
};

// Per-thread packing scratch: grows to the largest block seen, then is reused, so steady-state
// runs allocate nothing.
AlignedBuffer<float>& scratch_b() {
  thread_local AlignedBuffer<float> buffer;
  return buffer;
}
AlignedBuffer<float>& scratch_a() {
  thread_local AlignedBuffer<float> buffer;
  return buffer;
}

void compute_block(const GemmProblem& p, const GemmBlock& block) {
  const GemmIsa& isa = p.isa;
  const int64_t mr = isa.mr, nr = isa.nr;
  const auto* packed_a = std::get_if<const PackedMatrix*>(&p.a);
  const auto* view_a = std::get_if<MatrixView>(&p.a);
  const auto* packed_b = std::get_if<const PackedMatrix*>(&p.b);
  // A single row of a plain A is its own panel: the micro-kernel reads it with step 1.
  const bool a_is_row = view_a && p.M == 1 && !view_a->transposed;
  const GemmEpilogue& e = p.epilogue;
  const bool has_epilogue =
      e.row_bias || e.col_bias || e.residual || e.activation.kind != ActivationKind::None;
  const bool epilogue_in_kernel = activation_fits_registers(e.activation.kind);
  AlignedBuffer<float>& b_buffer = scratch_b();
  AlignedBuffer<float>& a_buffer = scratch_a();
  if (!packed_b) b_buffer.resize_discarding(static_cast<size_t>(isa.kc * round_up(std::min(isa.nc, p.N), nr)));
  if (view_a && !a_is_row) a_buffer.resize_discarding(static_cast<size_t>(isa.kc * round_up(isa.mc, mr)));

  for (int64_t jc = block.j_begin; jc < block.j_end; jc += isa.nc) {
    const int64_t nc = std::min(isa.nc, block.j_end - jc);
    for (int64_t k0 = 0; k0 < std::max<int64_t>(p.K, 1); k0 += isa.kc) {
      const int64_t kc = std::min(isa.kc, p.K - k0);
      const bool last_k = k0 + kc >= p.K;
      const float* b_panels;
      if (packed_b) {
        b_panels = (*packed_b)->panel(k0, jc, kc);
      } else {
        if (const auto* v = std::get_if<MatrixView>(&p.b))
          isa.pack_b(*v, k0, kc, jc, nc, nr, b_buffer.data());
        else
          isa.pack_im2col(std::get<Im2colView>(p.b), k0, kc, jc, nc, nr, b_buffer.data());
        b_panels = b_buffer.data();
      }
      // A block of mc rows stays in L2 while each B panel, loaded into L1 once, meets all of it.
      for (int64_t ic = block.i_begin; ic < block.i_end; ic += isa.mc) {
        const int64_t mc = std::min(isa.mc, block.i_end - ic);
        if (view_a && !a_is_row)
          for (int64_t ir = 0; ir < mc; ir += mr)
            isa.pack_a(*view_a, ic + ir, std::min(mr, p.M - ic - ir), k0, kc, mr, a_buffer.data() + ir * kc);
        for (int64_t jr = 0; jr < nc; jr += nr) {
          const int64_t j = jc + jr, cols = std::min(nr, p.N - j);
          const float* b_panel = b_panels + jr * kc;
          for (int64_t ir = 0; ir < mc; ir += mr) {
            const int64_t i = ic + ir, rows = std::min(mr, p.M - i);
            const float* a_panel = packed_a ? (*packed_a)->panel(k0, i, kc)
                                   : a_is_row ? view_a->data + k0
                                              : a_buffer.data() + ir * kc;
            float* tile = p.c + i * p.ldc + j;
            const bool accumulate = e.accumulate || k0 > 0;
            if (!last_k || !has_epilogue) {
              isa.kernels[rows - 1](kc, a_panel, a_is_row ? 1 : mr, b_panel, tile, p.ldc, cols, e.alpha, accumulate,
                                    nullptr);
              continue;
            }
            const TileEpilogue tile_epilogue{e.row_bias ? e.row_bias + i : nullptr, e.col_bias ? e.col_bias + j : nullptr,
                                             e.residual ? e.residual + i * e.residual_ld + j : nullptr,
                                             e.residual_ld, e.activation};
            isa.kernels[rows - 1](kc, a_panel, a_is_row ? 1 : mr, b_panel, tile, p.ldc, cols, e.alpha, accumulate,
                                  epilogue_in_kernel ? &tile_epilogue : nullptr);
            if (!epilogue_in_kernel) isa.epilogue(tile, p.ldc, rows, cols, tile_epilogue);
          }
        }
      }
    }
  }
}

}  // namespace

const GemmIsa& gemm_isa(CpuLevel level) {
  switch (level) {
    case CpuLevel::Avx512: return gemm_isa_avx512();
    case CpuLevel::Avx2: return gemm_isa_avx2();
    case CpuLevel::Scalar: break;
  }
  return gemm_isa_scalar();
}

GemmTiling gemm_tiling(CpuLevel level) {
  const GemmIsa& isa = gemm_isa(level);
  return {isa.mr, isa.nr, isa.kc};
}

namespace {

size_t packed_bytes(int64_t padded, int64_t depth) {
  if (padded <= 0 || depth <= 0) return 0;
  if (padded > (INT64_MAX / static_cast<int64_t>(sizeof(float))) / depth) throw std::bad_alloc();
  return static_cast<size_t>(padded * depth) * sizeof(float);
}

}  // namespace

PackedMatrix PackedMatrix::pack_a(CpuLevel level, int64_t M, int64_t K, const MatrixView& a, WeightStore& store,
                                  std::string_view key) {
  const GemmIsa& isa = gemm_isa(level);
  PackedMatrix packed(level, M, K, round_up(M, isa.mr));
  packed.data_ = store.get(key, packed_bytes(packed.padded_, K), [&](std::byte* out) {
    float* panels = reinterpret_cast<float*>(out);
    for (int64_t k0 = 0; k0 < K; k0 += isa.kc) {
      const int64_t kc = std::min(isa.kc, K - k0);
      for (int64_t i0 = 0; i0 < M; i0 += isa.mr)
        isa.pack_a(a, i0, std::min(isa.mr, M - i0), k0, kc, isa.mr, panels + k0 * packed.padded_ + i0 * kc);
    }
  });
  return packed;
}

PackedMatrix PackedMatrix::pack_b(CpuLevel level, int64_t K, int64_t N, const MatrixView& b, WeightStore& store,
                                  std::string_view key) {
  const GemmIsa& isa = gemm_isa(level);
  PackedMatrix packed(level, K, N, round_up(N, isa.nr));
  packed.data_ = store.get(key, packed_bytes(packed.padded_, K), [&](std::byte* out) {
    float* panels = reinterpret_cast<float*>(out);
    for (int64_t k0 = 0; k0 < K; k0 += isa.kc) {
      const int64_t kc = std::min(isa.kc, K - k0);
      isa.pack_b(b, k0, kc, 0, N, isa.nr, panels + k0 * packed.padded_);
    }
  });
  return packed;
}

const float* PackedMatrix::panel(int64_t k0, int64_t index, int64_t kc) const {
  return data_.as<float>() + k0 * padded_ + index * kc;
}

void sgemm(CpuLevel level, int64_t M, int64_t N, int64_t K, const GemmA& a, const GemmB& b, float* c, int64_t ldc,
           const GemmEpilogue& epilogue, ThreadPool* pool) {
  if (M <= 0 || N <= 0) return;
  auto check_packed = [&](const PackedMatrix* m, int64_t rows, int64_t cols, const char* which) {
    if (m->level() != level || m->rows() != rows || m->cols() != cols)
      throw Error(ErrorCode::Runtime, std::string("sgemm: packed ") + which + " was made for another level or shape");
  };
  if (const auto* pa = std::get_if<const PackedMatrix*>(&a)) check_packed(*pa, M, K, "A");
  if (const auto* pb = std::get_if<const PackedMatrix*>(&b)) check_packed(*pb, K, N, "B");
  const GemmProblem problem{gemm_isa(level), M, N, K, a, b, c, ldc, epilogue};
  for_each_gemm_block(M, N, K, problem.isa.mr, problem.isa.nr, pool,
                      [&](const GemmBlock& block) { compute_block(problem, block); });
}

}  // namespace kiln::kernels
