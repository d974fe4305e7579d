// MatMul with numpy semantics, and the integer MatMulInteger and QLinearMatMul. A 1-D operand is
// promoted to a matrix (a row for A, a column for B) and the added dim is dropped from the result;
// the leading (batch) dims broadcast. Each output batch is computed by blocks of rows on
// contiguous matrices; the pool splits the work over batches and rows together, so a single large
// matrix is parallel too.
#include <algorithm>
#include <cstring>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kernels/cpu/broadcast.h"
#include "kernels/cpu/matmul_ref.h"
#include "kernels/cpu/quant_ref.h"
#include "kernels/cpu/sgemm.h"
#include "ops/cpu/fused_activation.h"
#include "ops/cpu/quant_params.h"
#include "ops/cpu/quantized_matrix.h"
#include "ops/cpu/same_dtype.h"
#include "ops/cpu/type_list.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

struct MatMulPlan {
  Shape out;
  Shape a_matrix, b_matrix;  // the operands' shapes with a 1-D operand promoted
  int64_t M = 0, N = 0, K = 0;
  // The A and B batch that each output batch reads (broadcast batches repeat).
  std::vector<int64_t> a_batches, b_batches;
};

MatMulPlan plan_matmul(const Shape& a, const Shape& b) {
  if (a.empty() || b.empty())
    throw Error(ErrorCode::InvalidArgument, "inputs must have rank >= 1, got A " + shape_to_string(a) + " and B " +
                                                shape_to_string(b));
  MatMulPlan plan;
  plan.a_matrix = a.size() == 1 ? Shape{1, a[0]} : a;
  plan.b_matrix = b.size() == 1 ? Shape{b[0], 1} : b;
  plan.M = plan.a_matrix[plan.a_matrix.size() - 2];
  plan.K = plan.a_matrix.back();
  plan.N = plan.b_matrix.back();
  if (plan.b_matrix[plan.b_matrix.size() - 2] != plan.K)
    throw Error(ErrorCode::InvalidArgument, "inner dimensions differ: A " + shape_to_string(a) + " and B " +
                                                shape_to_string(b));
  const Shape a_batch(plan.a_matrix.begin(), plan.a_matrix.end() - 2);
  const Shape b_batch(plan.b_matrix.begin(), plan.b_matrix.end() - 2);
  const Shape batch = kernels::broadcast_shapes(a_batch, b_batch);
  plan.out = batch;
  if (a.size() > 1) plan.out.push_back(plan.M);
  if (b.size() > 1) plan.out.push_back(plan.N);

  const std::vector<int64_t> strides[2] = {kernels::broadcast_strides(a_batch, batch),
                                           kernels::broadcast_strides(b_batch, batch)};
  kernels::for_each_broadcast(batch, strides, [&](int64_t, const int64_t* offsets) {
    plan.a_batches.push_back(offsets[0]);
    plan.b_batches.push_back(offsets[1]);
  });
  return plan;
}

// Calls fn(batch, row, count) for blocks of output rows [row, row + count) of output batch `batch`,
// split across the pool.
template <class F>
void for_each_row_block(const MatMulPlan& plan, ThreadPool& pool, const F& fn) {
  const int64_t M = plan.M;
  const int64_t rows = static_cast<int64_t>(plan.a_batches.size()) * M;
  // Chunks of at least ~64K multiply-adds keep the pool's overhead small next to the work.
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(plan.N * plan.K, 1));
  pool.parallel_for(
      rows,
      [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end;) {
          const int64_t batch = r / M, row = r % M;
          const int64_t count = std::min(M - row, end - r);
          fn(batch, row, count);
          r += count;
        }
      },
      grain);
}

// Float32 runs the packed SGEMM: a constant 2-D B (weights) is packed once here, and then every
// batch and row of A goes through one GEMM; otherwise each output batch is its own GEMM, run in
// parallel over batches when there are enough of them (attention's per-head products). Other
// dtypes run the reference kernel.
//
// kiln.FusedMatMul (FuseMatMulBias, FuseActivation, FoldTransposeIntoMatMul) is the same kernel
// with an epilogue: input 2, when given, is a constant bias [N] added to every row, attributes
// `activation` / `activation_params` name an activation applied after it (fused_activation.h), and
// `transA` / `transB` = 1 read that operand with its last two axes swapped, as the SGEMM's
// transposed views do, instead of a Transpose writing it out.
class MatMulKernel final : public OpKernel {
 public:
  explicit MatMulKernel(const KernelInfo& info)
      : level_(info.cpu_level()),
        activation_(read_fused_activation(info)),
        trans_a_(info.attr_int("transA", 0) != 0),
        trans_b_(info.attr_int("transB", 0) != 0) {
    const Tensor* b = info.constant_input(1);
    if (b && b->dtype() == DType::Float32 && b->rank() == 2) {
      const int64_t K = trans_b_ ? b->dim(1) : b->dim(0), N = trans_b_ ? b->dim(0) : b->dim(1);
      packed_b_ = kernels::PackedMatrix::pack_b(level_, K, N, kernels::MatrixView{b->data<float>(), b->dim(1), trans_b_},
                                                info.weights());
    }
    if (info.has_input(2)) {
      const Tensor* bias = info.constant_input(2);
      if (!bias || bias->dtype() != DType::Float32 || bias->rank() != 1)
        throw Error(ErrorCode::InvalidModel, "FusedMatMul's bias must be a constant float32 vector");
      bias_ = info.weights().get("bias", bias->nbytes(),
                                 [&](std::byte* out) { std::memcpy(out, bias->raw(), bias->nbytes()); });
    }
  }

  bool reads_constant_data(size_t input) const override {
    return !((input == 1 && packed_b_.rows() > 0) || (input == 2 && !bias_.empty()));
  }

  void compute(KernelContext& ctx) const override {
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    require_same_dtype(a, b);
    const MatMulPlan plan = plan_matmul(logical_shape(a.shape(), trans_a_, "A"), logical_shape(b.shape(), trans_b_, "B"));
    if (a.dtype() == DType::Float32) return compute_float(ctx, plan, a, b);
    if (trans_a_ || trans_b_) throw Error(ErrorCode::InvalidModel, "transA and transB need float32 operands");
    const int64_t M = plan.M, N = plan.N, K = plan.K;
    dispatch_dtype<double, int32_t, int64_t>(a.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* pa = a.data<T>();
      const T* pb = b.data<T>();
      T* py = ctx.allocate_output(0, a.dtype(), plan.out).template data<T>();
      for_each_row_block(plan, ctx.pool(), [&](int64_t batch, int64_t row, int64_t count) {
        const auto i = static_cast<size_t>(batch);
        kernels::matmul_ref<T>(count, N, K, pa + (plan.a_batches[i] * M + row) * K, pb + plan.b_batches[i] * K * N,
                               py + (batch * M + row) * N);
      });
    });
  }

 private:
  void compute_float(KernelContext& ctx, const MatMulPlan& plan, const Tensor& a, const Tensor& b) const {
    const int64_t M = plan.M, N = plan.N, K = plan.K;
    const float* pa = a.data<float>();
    float* py = ctx.allocate_output(0, DType::Float32, plan.out).data<float>();
    if (!bias_.empty() && static_cast<int64_t>(bias_.count<float>()) != N)
      throw Error(ErrorCode::InvalidArgument, "bias has " + std::to_string(bias_.count<float>()) + " values for " +
                                                  std::to_string(N) + " output columns");
    kernels::GemmEpilogue epilogue;
    epilogue.col_bias = bias_.empty() ? nullptr : bias_.as<float>();
    epilogue.activation = activation_;
    const bool b_packed = packed_b_.rows() == K && packed_b_.cols() == N && b.rank() == 2;
    if (b_packed && !trans_a_) {
      // A's batches are contiguous rows against the one B: a single [rows, K] x [K, N] GEMM.
      kernels::sgemm(level_, a.numel() / std::max<int64_t>(K, 1), N, K, kernels::MatrixView{pa, K}, &packed_b_, py, N,
                     epilogue, &ctx.pool());
      return;
    }
    const float* pb = b.data<float>();
    const int64_t batches = static_cast<int64_t>(plan.a_batches.size());
    auto run_batch = [&](int64_t batch, ThreadPool* pool) {
      const auto i = static_cast<size_t>(batch);
      const kernels::GemmB b_operand = b_packed ? kernels::GemmB(&packed_b_)
                                                : kernels::MatrixView{pb + plan.b_batches[i] * K * N, trans_b_ ? K : N, trans_b_};
      kernels::sgemm(level_, M, N, K, kernels::MatrixView{pa + plan.a_batches[i] * M * K, trans_a_ ? M : K, trans_a_},
                     b_operand, py + batch * M * N, N, epilogue, pool);
    };
    if (batches >= ctx.pool().size()) {
      ctx.pool().parallel_for(batches, [&](int64_t begin, int64_t end) {
        for (int64_t batch = begin; batch < end; ++batch) run_batch(batch, nullptr);
      });
    } else {
      for (int64_t batch = 0; batch < batches; ++batch) run_batch(batch, &ctx.pool());
    }
  }

  // The operand's shape as the product reads it: its last two axes swapped when `transposed`.
  static Shape logical_shape(Shape shape, bool transposed, const char* operand) {
    if (!transposed) return shape;
    if (shape.size() < 2)
      throw Error(ErrorCode::InvalidArgument, std::string("a transposed ") + operand + " needs rank >= 2, got " +
                                                  shape_to_string(shape));
    std::swap(shape[shape.size() - 1], shape[shape.size() - 2]);
    return shape;
  }

  CpuLevel level_;
  kernels::Activation activation_;
  bool trans_a_, trans_b_;
  PreparedWeights bias_;
  kernels::PackedMatrix packed_b_;
};
KILN_KERNEL(MatMulKernel, {.op = "MatMul", .since = 1, .types = types::kNumeric});
KILN_KERNEL(MatMulKernel, {.op = "FusedMatMul", .domain = "kiln", .since = 1, .types = types::kFloat});

enum class Operand { A, B };

// A quantization parameter of a matmul operand (absent: 0) as one value per row of A or per
// column of B for every batch of that operand, flattened from [a batch..., M] or [b batch..., N].
// The parameter is anything that broadcasts to the operand with K set to 1 ([..., M, 1] or
// [..., 1, N]): a single value, one per row or column, or one per batch and row or column. A 1-D
// parameter of A holds one value per row, as the spec's 2-D example has it.
template <class T>
std::vector<T> expand_operand_parameter(const Tensor* parameter, const MatMulPlan& plan, Operand operand,
                                        const char* name) {
  Shape target = operand == Operand::A ? plan.a_matrix : plan.b_matrix;
  target[target.size() - (operand == Operand::A ? 1 : 2)] = 1;
  std::vector<T> values(static_cast<size_t>(shape_numel(target)), T{0});
  if (!parameter) return values;
  Shape shape = parameter->shape();
  if (operand == Operand::A && shape.size() == 1) shape.push_back(1);
  if (!kernels::broadcasts_to(shape, target))
    throw Error(ErrorCode::InvalidArgument, std::string(name) + " of shape " + shape_to_string(parameter->shape()) +
                                                " does not broadcast to " + shape_to_string(target));
  const std::vector<int64_t> strides[1] = {kernels::broadcast_strides(shape, target)};
  kernels::for_each_broadcast(target, strides, [&](int64_t i, const int64_t* offsets) {
    values[static_cast<size_t>(i)] = static_cast<T>(parameter->value_as_double(offsets[0]));
  });
  return values;
}

std::vector<int32_t> operand_zero_points(const Tensor* zero_point, const Tensor& x, const MatMulPlan& plan,
                                         Operand operand, const char* name) {
  if (zero_point && zero_point->dtype() != x.dtype())
    throw Error(ErrorCode::InvalidModel, std::string(name) + " has dtype " + dtype_name(zero_point->dtype()) +
                                             " but its input is " + dtype_name(x.dtype()));
  return expand_operand_parameter<int32_t>(zero_point, plan, operand, name);
}

std::vector<float> operand_scales(const Tensor& scale, const MatMulPlan& plan, Operand operand, const char* name) {
  if (scale.dtype() != DType::Float32)
    throw Error(ErrorCode::NotImplemented,
                std::string(name) + " of dtype " + dtype_name(scale.dtype()) + " is not supported; it must be float32");
  return expand_operand_parameter<float>(&scale, plan, operand, name);
}

// The int32 product of two 8-bit inputs minus their zero points (absent: 0), by blocks of output rows.
class IntegerMatMul {
 public:
  IntegerMatMul(const KernelContext& ctx, size_t a_input, size_t a_zero_input, size_t b_input, size_t b_zero_input)
      : a_(ctx.input(a_input)),
        b_(ctx.input(b_input)),
        plan_(plan_matmul(a_.shape(), b_.shape())),
        a_zero_points_(operand_zero_points(optional_input(ctx, a_zero_input), a_, plan_, Operand::A, "a_zero_point")),
        b_zero_points_(operand_zero_points(optional_input(ctx, b_zero_input), b_, plan_, Operand::B, "b_zero_point")) {}

  const MatMulPlan& plan() const { return plan_; }

  // Dispatches on the inputs' dtypes and calls fn(block) where block(batch, row, count, acc)
  // writes rows [row, row + count) of output batch `batch` to acc [count, N].
  template <class F>
  void dispatch(F&& fn) const {
    QuantizedTypes::dispatch(a_.dtype(), [&](auto a_tag) {
      QuantizedTypes::dispatch(b_.dtype(), [&](auto b_tag) {
        using TA = typename decltype(a_tag)::type;
        using TB = typename decltype(b_tag)::type;
        fn([&, pa = a_.data<TA>(), pb = b_.data<TB>()](int64_t batch, int64_t row, int64_t count, int32_t* acc) {
          const int64_t M = plan_.M, N = plan_.N, K = plan_.K;
          const int64_t a_batch = plan_.a_batches[static_cast<size_t>(batch)];
          const int64_t b_batch = plan_.b_batches[static_cast<size_t>(batch)];
          kernels::gemm_integer_ref(count, N, K, pa + (a_batch * M + row) * K, a_zero_points_.data() + a_batch * M + row,
                                    pb + b_batch * K * N, b_zero_points_.data() + b_batch * N, acc);
        });
      });
    });
  }

 private:
  static const Tensor* optional_input(const KernelContext& ctx, size_t i) {
    return ctx.has_input(i) ? &ctx.input(i) : nullptr;
  }

  const Tensor& a_;
  const Tensor& b_;
  MatMulPlan plan_;
  std::vector<int32_t> a_zero_points_, b_zero_points_;
};

// A by a prepared constant B on the int8 GEMM: A's rows (any leading dims) against B [K, N], when
// A's zero point is a single value. Returns false, computing nothing, otherwise.
bool run_prepared(CpuLevel level, const std::optional<kernels::PackedQuantWeights>& b, KernelContext& ctx,
                  size_t a_zero_input, const std::function<kernels::QGemmEpilogue(const Shape& y_shape)>& epilogue) {
  const Tensor& a = ctx.input(0);
  if (!b || a.rank() == 0 || a.dim(a.rank() - 1) != b->rows()) return false;
  const Tensor* a_zero_point = ctx.has_input(a_zero_input) ? &ctx.input(a_zero_input) : nullptr;
  if (a_zero_point && a_zero_point->numel() != 1) return false;
  const int32_t zero = read_zero_points(a_zero_point, a.dtype(), 1, "a_zero_point")[0];
  Shape shape = a.shape();
  shape.back() = b->cols();
  const kernels::QGemmEpilogue e = epilogue(shape);
  const UnsignedRows rows = unsigned_rows(a, zero, unsigned_rows_scratch(a.numel()));
  kernels::qgemm(level, a.numel() / b->rows(), rows.data, b->rows(), rows.zero_point, *b, e, &ctx.pool());
  return true;
}

class MatMulIntegerKernel final : public OpKernel {
 public:
  explicit MatMulIntegerKernel(const KernelInfo& info)
      : level_(info.cpu_level()), b_(pack_constant_matrix(info, 1, 3, false)) {}
  void compute(KernelContext& ctx) const override {
    const bool prepared = run_prepared(level_, b_, ctx, 2, [&](const Shape& shape) {
      kernels::QGemmEpilogue e;
      e.c = ctx.allocate_output(0, DType::Int32, shape).data<int32_t>();
      e.ldc = shape.back();
      return e;
    });
    if (prepared) return;
    const IntegerMatMul product(ctx, 0, 2, 1, 3);
    const MatMulPlan& plan = product.plan();
    int32_t* py = ctx.allocate_output(0, DType::Int32, plan.out).data<int32_t>();
    product.dispatch([&](const auto& block) {
      for_each_row_block(plan, ctx.pool(), [&](int64_t batch, int64_t row, int64_t count) {
        block(batch, row, count, py + (batch * plan.M + row) * plan.N);
      });
    });
  }

 private:
  CpuLevel level_;
  std::optional<kernels::PackedQuantWeights> b_;
};
KILN_KERNEL(MatMulIntegerKernel, {.op = "MatMulInteger", .since = 10, .types = QuantizedTypes::dtypes()});

// kiln.MatMulIntegerToFloat (passes/fuse_dynamic_matmul.h): the integer product of A (uint8 or
// int8, one zero point) and a constant B, times a_scale * b_scale[j] in the GEMM's epilogue, in
// float. Inputs: A, B, a_scale, b_scale, a_zero_point, b_zero_point.
class MatMulIntegerToFloatKernel final : public OpKernel {
 public:
  explicit MatMulIntegerToFloatKernel(const KernelInfo& info)
      : level_(info.cpu_level()), b_(pack_constant_matrix(info, 1, 5, false)) {
    if (!b_) throw Error(ErrorCode::NotImplemented, "MatMulIntegerToFloat needs a constant 2-D 8-bit B and zero point");
  }
  void compute(KernelContext& ctx) const override {
    const float a_scale = read_scales(ctx.input(2), 1, "a_scale")[0];
    const Tensor& b_scale = ctx.input(3);
    const std::vector<float> b_scales = read_scales(b_scale, b_scale.numel() == 1 ? 1 : b_->cols(), "b_scale");
    std::vector<float> scales(b_scales.size());
    for (size_t j = 0; j < scales.size(); ++j) scales[j] = a_scale * b_scales[j];
    const bool prepared = run_prepared(level_, b_, ctx, 4, [&](const Shape& shape) {
      kernels::QGemmEpilogue e;
      e.c = ctx.allocate_output(0, DType::Float32, shape).data<float>();
      e.ldc = shape.back();
      e.dequantize = {scales.data(), scales.size() > 1 ? 1 : 0, nullptr};
      return e;
    });
    if (!prepared)
      throw Error(ErrorCode::InvalidArgument, "A must end in B's " + std::to_string(b_->rows()) +
                                                  " rows and have one zero point; got A " + shape_to_string(ctx.input(0).shape()));
  }

 private:
  CpuLevel level_;
  std::optional<kernels::PackedQuantWeights> b_;
};
KILN_KERNEL(MatMulIntegerToFloatKernel,
            {.op = "MatMulIntegerToFloat", .domain = "kiln", .since = 1, .types = QuantizedTypes::dtypes()});

// y = saturate(round(a_scale * b_scale / y_scale * the integer product) + y_zero_point), with
// a_scale per row and b_scale per column when they are not single values.
class QLinearMatMulKernel final : public OpKernel {
 public:
  explicit QLinearMatMulKernel(const KernelInfo& info)
      : level_(info.cpu_level()), b_(pack_constant_matrix(info, 3, 5, false)) {}
  void compute(KernelContext& ctx) const override {
    if (b_ && ctx.input(1).numel() == 1) {
      const int64_t N = b_->cols();
      const float a_scale = read_scales(ctx.input(1), 1, "a_scale")[0];
      const std::vector<float> b_scales = read_scales(ctx.input(4), ctx.input(4).numel() == 1 ? 1 : N, "b_scale");
      const float y_scale = read_scales(ctx.input(6), 1, "y_scale")[0];
      const Tensor& y_zero_point = ctx.input(7);
      std::vector<float> multipliers(b_scales.size());
      for (size_t j = 0; j < multipliers.size(); ++j) multipliers[j] = a_scale * b_scales[j] / y_scale;
      const bool prepared = run_prepared(level_, b_, ctx, 2, [&](const Shape& shape) {
        kernels::QGemmEpilogue e;
        Tensor& y = ctx.allocate_output(0, y_zero_point.dtype(), shape);
        if (y.dtype() == DType::Int8)
          e.c = y.data<int8_t>();
        else
          e.c = y.data<uint8_t>();
        e.ldc = N;
        e.requantize = {nullptr, multipliers.data(), multipliers.size() > 1 ? 1 : 0,
                        read_zero_points(&y_zero_point, y_zero_point.dtype(), 1, "y_zero_point")[0]};
        return e;
      });
      if (prepared) return;
    }
    const IntegerMatMul product(ctx, 0, 2, 3, 5);
    const MatMulPlan& plan = product.plan();
    const std::vector<float> a_scales = operand_scales(ctx.input(1), plan, Operand::A, "a_scale");
    const std::vector<float> b_scales = operand_scales(ctx.input(4), plan, Operand::B, "b_scale");
    const float y_scale = read_scales(ctx.input(6), 1, "y_scale")[0];
    const Tensor& y_zero_point = ctx.input(7);
    const DType y_dtype = y_zero_point.dtype();
    const int32_t y_zero = read_zero_points(&y_zero_point, y_dtype, 1, "y_zero_point")[0];
    const int64_t M = plan.M, N = plan.N;
    QuantizedTypes::dispatch(y_dtype, [&](auto tag) {
      using Q = typename decltype(tag)::type;
      Q* py = ctx.allocate_output(0, y_dtype, plan.out).template data<Q>();
      product.dispatch([&](const auto& block) {
        for_each_row_block(plan, ctx.pool(), [&](int64_t batch, int64_t row, int64_t count) {
          std::vector<int32_t> acc(static_cast<size_t>(count * N));
          std::vector<float> multipliers(static_cast<size_t>(N));
          block(batch, row, count, acc.data());
          const float* a_scale = a_scales.data() + plan.a_batches[static_cast<size_t>(batch)] * M + row;
          const float* b_scale = b_scales.data() + plan.b_batches[static_cast<size_t>(batch)] * N;
          for (int64_t r = 0; r < count; ++r) {
            for (int64_t j = 0; j < N; ++j) multipliers[static_cast<size_t>(j)] = a_scale[r] * b_scale[j] / y_scale;
            kernels::requantize_ref(N, acc.data() + r * N, 0, multipliers.data(), 1, y_zero,
                                    py + (batch * M + row + r) * N);
          }
        });
      });
    });
  }

 private:
  CpuLevel level_;
  std::optional<kernels::PackedQuantWeights> b_;
};
KILN_KERNEL(QLinearMatMulKernel, {.op = "QLinearMatMul", .since = 10, .types = QuantizedTypes::dtypes()});

}  // namespace
}  // namespace kiln::ops
