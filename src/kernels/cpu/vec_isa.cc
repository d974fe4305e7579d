#include "kernels/cpu/vec_isa.h"

#include "kernels/cpu/elementwise.h"

namespace kiln::kernels {

const VecIsa* vec_isa(CpuLevel level) {
  switch (level) {
    case CpuLevel::Avx512: return &vec_isa_avx512();
    case CpuLevel::Avx2: return &vec_isa_avx2();
    case CpuLevel::Scalar: break;
  }
  return nullptr;
}

Pool2d make_pool_2d(const WindowGeometry& g, bool average, bool count_include_pad) {
  return {.in_h = g.input[0],
          .in_w = g.input[1],
          .out_h = g.output[0],
          .out_w = g.output[1],
          .kernel_h = g.kernel[0],
          .kernel_w = g.kernel[1],
          .stride_h = g.strides[0],
          .stride_w = g.strides[1],
          .dilation_h = g.dilations[0],
          .dilation_w = g.dilations[1],
          .pad_top = g.pads_begin[0],
          .pad_left = g.pads_begin[1],
          .pad_bottom = g.pads_end[0],
          .pad_right = g.pads_end[1],
          .average = average,
          .count_include_pad = count_include_pad};
}

void parallel_vec_unary(ThreadPool& pool, const VecIsa& isa, const UnaryOp& op, const float* x, float* y, int64_t n) {
  pool.parallel_for(
      n, [&](int64_t begin, int64_t end) { isa.unary(op, x + begin, y + begin, end - begin); }, kElementwiseGrain);
}

}  // namespace kiln::kernels
