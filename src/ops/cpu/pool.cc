// MaxPool, AveragePool, LpPool and their Global forms over any number of spatial dims: attribute
// and shape checks around kernels/cpu/pool_ref. A global pool is the windowed one with a window the
// size of the input, so one template serves all six ops.
//
// At CPU levels above Scalar, float32 2-D max pooling (without indices) and average pooling, and
// global average pooling of any rank, take the vectorized kernels, parallel over the N*C planes.
#include <algorithm>

#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/pool_ref.h"
#include "kernels/cpu/vec_isa.h"
#include "ops/cpu/dispatch.h"
#include "ops/cpu/window_attributes.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

enum class PoolKind { Max, Average, Lp };

template <PoolKind Kind, bool Global>
class PoolKernel final : public OpKernel {
 public:
  explicit PoolKernel(const KernelInfo& info)
      : vec_(Kind == PoolKind::Lp || (Global && Kind == PoolKind::Max) ? nullptr : kernels::vec_isa(info.cpu_level())) {
    if constexpr (!Global) {
      attributes_ = read_window_attributes(info);
      if (attributes_.kernel.empty()) throw Error(ErrorCode::InvalidModel, "attribute kernel_shape is required");
    }
    if constexpr (Kind == PoolKind::Max) {
      const int64_t storage_order = info.attr_int("storage_order", 0);
      if (storage_order != 0 && storage_order != 1)
        throw Error(ErrorCode::InvalidModel, "storage_order " + std::to_string(storage_order) + " is not 0 or 1");
      column_major_indices_ = storage_order == 1;
    }
    if constexpr (Kind == PoolKind::Average) count_include_pad_ = info.attr_int("count_include_pad", 0) != 0;
    if constexpr (Kind == PoolKind::Lp) {
      // Opset 1 declared p a float; later opsets an int.
      p_ = info.opset() < 2 ? info.attr_float("p", 2.f) : static_cast<float>(info.attr_int("p", 2));
      if (!(p_ > 0.f)) throw Error(ErrorCode::InvalidModel, "p " + std::to_string(p_) + " is not positive");
    }
  }

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const Shape spatial = spatial_dims(x);
    kernels::WindowAttributes attributes = attributes_;
    if constexpr (Global) attributes.kernel = spatial;
    const kernels::WindowGeometry geometry = kernels::make_window_geometry(spatial, attributes);
    const int64_t planes = x.dim(0) * x.dim(1);
    Shape y_shape = {x.dim(0), x.dim(1)};
    y_shape.insert(y_shape.end(), geometry.output.begin(), geometry.output.end());

    const bool without_indices = ctx.output_count() < 2;
    if (vec_ && x.dtype() == DType::Float32 && without_indices && (Global || geometry.rank() == 2))
      return compute_vec(ctx, x, geometry, y_shape);

    if constexpr (Kind == PoolKind::Max) {
      dispatch_dtype<float, uint8_t, int8_t>(x.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        T* y = ctx.allocate_output(0, x.dtype(), y_shape).template data<T>();
        int64_t* indices = ctx.output_count() > 1 ? ctx.allocate_output(1, DType::Int64, y_shape).template data<int64_t>()
                                                  : nullptr;
        kernels::compute_max_pool(x.data<T>(), y, indices, column_major_indices_, planes, geometry, ctx.pool());
      });
    } else {
      dispatch_dtype<float>(x.dtype(), [&](auto) {
        float* y = ctx.allocate_output(0, DType::Float32, y_shape).template data<float>();
        if constexpr (Kind == PoolKind::Average)
          kernels::compute_average_pool(x.data<float>(), y, count_include_pad_, planes, geometry, ctx.pool());
        else
          kernels::compute_lp_pool(x.data<float>(), y, p_, planes, geometry, ctx.pool());
      });
    }
  }

 private:
  // The vectorized float32 path, one plane at a time, planes split over the pool.
  void compute_vec(KernelContext& ctx, const Tensor& x, const kernels::WindowGeometry& g, const Shape& y_shape) const {
    const float* px = x.data<float>();
    float* py = ctx.allocate_output(0, DType::Float32, y_shape).template data<float>();
    const int64_t in_size = g.input_size(), out_size = g.output_size();
    const int64_t grain = std::max<int64_t>(1, kernels::kElementwiseGrain / std::max<int64_t>(in_size, 1));
    const auto for_each_plane = [&](auto&& plane_fn) {
      ctx.pool().parallel_for(
          x.dim(0) * x.dim(1),
          [&](int64_t begin, int64_t end) {
            for (int64_t p = begin; p < end; ++p) plane_fn(px + p * in_size, py + p * out_size);
          },
          grain);
    };
    if constexpr (Global) {
      for_each_plane([&](const float* plane, float* y) { *y = vec_->sum(plane, in_size) / static_cast<float>(in_size); });
    } else {
      const kernels::Pool2d pool = kernels::make_pool_2d(g, Kind == PoolKind::Average, count_include_pad_);
      for_each_plane([&](const float* plane, float* y) { vec_->pool_2d(pool, plane, y); });
    }
  }

  const kernels::VecIsa* vec_;  // null at CpuLevel::Scalar and for the ops without a vector kernel
  kernels::WindowAttributes attributes_;
  bool column_major_indices_ = false;
  bool count_include_pad_ = false;
  float p_ = 2.f;
};

const std::vector<DType> kMaxPoolDTypes = {DType::Float32, DType::UInt8, DType::Int8};

using MaxPoolKernel = PoolKernel<PoolKind::Max, false>;
KILN_KERNEL(MaxPoolKernel, {.op = "MaxPool", .since = 1, .types = kMaxPoolDTypes});
using AveragePoolKernel = PoolKernel<PoolKind::Average, false>;
KILN_KERNEL(AveragePoolKernel, {.op = "AveragePool", .since = 1, .types = types::kFloat});
using LpPoolKernel = PoolKernel<PoolKind::Lp, false>;
KILN_KERNEL(LpPoolKernel, {.op = "LpPool", .since = 1, .types = types::kFloat});
using GlobalMaxPoolKernel = PoolKernel<PoolKind::Max, true>;
KILN_KERNEL(GlobalMaxPoolKernel, {.op = "GlobalMaxPool", .since = 1, .types = kMaxPoolDTypes});
using GlobalAveragePoolKernel = PoolKernel<PoolKind::Average, true>;
KILN_KERNEL(GlobalAveragePoolKernel, {.op = "GlobalAveragePool", .since = 1, .types = types::kFloat});
using GlobalLpPoolKernel = PoolKernel<PoolKind::Lp, true>;
KILN_KERNEL(GlobalLpPoolKernel, {.op = "GlobalLpPool", .since = 1, .types = types::kFloat});

}  // namespace
}  // namespace kiln::ops
