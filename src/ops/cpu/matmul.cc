// MatMul with numpy semantics, and MatMulInteger. A 1-D operand is promoted to a matrix (a row for
// A, a column for B) and the added dim is dropped from the result; the leading (batch) dims
// broadcast. Each output batch is one matmul_ref call on contiguous matrices; the pool splits the
// work over batches and rows together, so a single large matrix is parallel too.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/cpu/broadcast.h"
#include "kernels/cpu/matmul_ref.h"
#include "ops/cpu/dispatch.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

struct MatMulPlan {
  Shape out;
  int64_t M = 0, N = 0, K = 0;
  // Element offsets of each output batch's A and B matrices (broadcast batches repeat offsets).
  std::vector<int64_t> a_offsets, b_offsets;
};

MatMulPlan plan_matmul(const Shape& a, const Shape& b) {
  if (a.empty() || b.empty())
    throw Error(ErrorCode::InvalidArgument, "inputs must have rank >= 1, got A " + shape_to_string(a) + " and B " +
                                                shape_to_string(b));
  const Shape a_mat = a.size() == 1 ? Shape{1, a[0]} : a;
  const Shape b_mat = b.size() == 1 ? Shape{b[0], 1} : b;
  MatMulPlan plan;
  plan.M = a_mat[a_mat.size() - 2];
  plan.K = a_mat.back();
  plan.N = b_mat.back();
  if (b_mat[b_mat.size() - 2] != plan.K)
    throw Error(ErrorCode::InvalidArgument, "inner dimensions differ: A " + shape_to_string(a) + " and B " +
                                                shape_to_string(b));
  const Shape a_batch(a_mat.begin(), a_mat.end() - 2), b_batch(b_mat.begin(), b_mat.end() - 2);
  const Shape batch = kernels::broadcast_shapes(a_batch, b_batch);
  plan.out = batch;
  if (a.size() > 1) plan.out.push_back(plan.M);
  if (b.size() > 1) plan.out.push_back(plan.N);

  const std::vector<int64_t> a_strides = kernels::broadcast_strides(a_batch, batch);
  const std::vector<int64_t> b_strides = kernels::broadcast_strides(b_batch, batch);
  const int64_t batches = shape_numel(batch);
  for (int64_t i = 0; i < batches; ++i) {
    int64_t rest = i, a_offset = 0, b_offset = 0;
    for (size_t d = batch.size(); d-- > 0;) {
      const int64_t index = rest % batch[d];
      rest /= batch[d];
      a_offset += index * a_strides[d];
      b_offset += index * b_strides[d];
    }
    plan.a_offsets.push_back(a_offset * plan.M * plan.K);
    plan.b_offsets.push_back(b_offset * plan.K * plan.N);
  }
  return plan;
}

template <class T>
void run_matmul(const MatMulPlan& plan, const T* a, const T* b, T* c, ThreadPool& pool) {
  const int64_t M = plan.M, N = plan.N, K = plan.K;
  const int64_t rows = static_cast<int64_t>(plan.a_offsets.size()) * M;
  // Chunks of at least ~64K multiply-adds keep the pool's overhead small next to the work.
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(N * K, 1));
  pool.parallel_for(
      rows,
      [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end;) {
          const size_t batch = static_cast<size_t>(r / M);
          const int64_t row = r % M;
          const int64_t count = std::min(M - row, end - r);
          kernels::matmul_ref<T>(count, N, K, a + plan.a_offsets[batch] + row * K, b + plan.b_offsets[batch],
                                 c + static_cast<int64_t>(batch) * M * N + row * N);
          r += count;
        }
      },
      grain);
}

class MatMulKernel final : public OpKernel {
 public:
  explicit MatMulKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) const override {
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    if (a.dtype() != b.dtype())
      throw Error(ErrorCode::InvalidModel, std::string("input dtypes differ: ") + dtype_name(a.dtype()) + " and " +
                                               dtype_name(b.dtype()));
    const MatMulPlan plan = plan_matmul(a.shape(), b.shape());
    dispatch_dtype<float, double, int32_t, int64_t>(a.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      Tensor& y = ctx.allocate_output(0, a.dtype(), plan.out);
      run_matmul<T>(plan, a.data<T>(), b.data<T>(), y.data<T>(), ctx.pool());
    });
  }
};
KILN_KERNEL(MatMulKernel, {.op = "MatMul", .since = 1, .types = types::kNumeric});

// A uint8/int8 operand widened to int32 minus its zero point. The zero point is a scalar or holds
// one value per `period` of the index pattern (e / stride) % period: per row of A (stride K,
// period M) or per column of B (stride 1, period N).
Tensor subtract_zero_point(const Tensor& x, const Tensor* zero_point, int64_t stride, int64_t period,
                           const char* name) {
  Tensor out(DType::Int32, x.shape());
  dispatch_dtype<uint8_t, int8_t>(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    int32_t* po = out.data<int32_t>();
    if (!zero_point) {
      for (int64_t e = 0; e < x.numel(); ++e) po[e] = px[e];
      return;
    }
    if (zero_point->dtype() != x.dtype() || zero_point->rank() > 1 ||
        (zero_point->numel() != 1 && zero_point->numel() != period))
      throw Error(ErrorCode::InvalidArgument, std::string(name) + " must be a " + dtype_name(x.dtype()) +
                                                  " scalar or hold " + std::to_string(period) + " values, got " +
                                                  dtype_name(zero_point->dtype()) + " " +
                                                  shape_to_string(zero_point->shape()));
    const T* pz = zero_point->data<T>();
    const int64_t count = zero_point->numel();
    for (int64_t e = 0; e < x.numel(); ++e) po[e] = int32_t{px[e]} - int32_t{pz[count == 1 ? 0 : (e / stride) % count]};
  });
  return out;
}

class MatMulIntegerKernel final : public OpKernel {
 public:
  explicit MatMulIntegerKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) const override {
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    const MatMulPlan plan = plan_matmul(a.shape(), b.shape());
    const Tensor a32 = subtract_zero_point(a, ctx.has_input(2) ? &ctx.input(2) : nullptr, plan.K, plan.M, "a_zero_point");
    const Tensor b32 = subtract_zero_point(b, ctx.has_input(3) ? &ctx.input(3) : nullptr, 1, plan.N, "b_zero_point");
    Tensor& y = ctx.allocate_output(0, DType::Int32, plan.out);
    run_matmul<int32_t>(plan, a32.data<int32_t>(), b32.data<int32_t>(), y.data<int32_t>(), ctx.pool());
  }
};
KILN_KERNEL(MatMulIntegerKernel, {.op = "MatMulInteger", .since = 10, .types = {DType::UInt8, DType::Int8}});

}  // namespace
}  // namespace kiln::ops
