// Normalizations in inference form: BatchNormalization (stored statistics), InstanceNormalization,
// LayerNormalization, LRN and MeanVarianceNormalization. Channel-wise ones view X as
// [N, C, spatial...]; the work is split over the batch (rows for LayerNorm).
//
// At CPU levels above Scalar, BatchNormalization and LayerNormalization take the vectorized
// kernels (kernels/cpu/vec_isa.h); BatchNormalization then folds its statistics into one affine
// map per channel (once, at creation, when they are constants) and splits the work over the
// N*C planes.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/cpu/broadcast.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/norm_ref.h"
#include "kernels/cpu/vec_isa.h"
#include "ops/cpu/dispatch.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

struct ChannelView {
  int64_t batch, channels, spatial;
};

ChannelView channel_view(const Tensor& x) {
  if (x.rank() < 2)
    throw Error(ErrorCode::InvalidArgument, "X must have rank >= 2 ([N, C, ...]), got " + shape_to_string(x.shape()));
  return {x.dim(0), x.dim(1), x.numel() / std::max<int64_t>(x.dim(0) * x.dim(1), 1)};
}

// A per-channel parameter (scale, bias, mean, var) must be a [C] tensor.
const float* per_channel(const Tensor& t, int64_t channels, const char* name) {
  if (t.rank() != 1 || t.dim(0) != channels)
    throw Error(ErrorCode::InvalidArgument, std::string(name) + " must have shape [" + std::to_string(channels) +
                                                "] (one value per channel), got " + shape_to_string(t.shape()));
  return t.data<float>();
}

// Runs fn(x, y, batch) on slices of whole batch items, in parallel.
template <class F>
void split_batch(KernelContext& ctx, const ChannelView& v, const float* x, float* y, F&& fn) {
  const int64_t item = v.channels * v.spatial;
  ctx.pool().parallel_for(v.batch, [&](int64_t begin, int64_t end) { fn(x + begin * item, y + begin * item, end - begin); });
}

// The per-channel affine maps of inference batch normalization.
std::vector<kernels::ChannelAffine> fold_batch_norm(int64_t channels, const float* scale, const float* bias,
                                                   const float* mean, const float* var, float epsilon) {
  std::vector<kernels::ChannelAffine> affine(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c)
    affine[static_cast<size_t>(c)] = kernels::batch_norm_affine(scale[c], bias[c], mean[c], var[c], epsilon);
  return affine;
}

// The statistics inputs 1-4 (scale, B, mean, var) when all are constant [C] float tensors.
bool constant_statistics(const KernelInfo& info, int64_t& channels) {
  channels = -1;
  for (size_t i = 1; i <= 4; ++i) {
    const Tensor* t = info.constant_input(i);
    if (!t || t->dtype() != DType::Float32 || t->rank() != 1 || (channels >= 0 && t->dim(0) != channels)) return false;
    channels = t->dim(0);
  }
  return true;
}

class BatchNormKernel final : public OpKernel {
 public:
  explicit BatchNormKernel(const KernelInfo& info)
      : epsilon_(info.attr_float("epsilon", 1e-5f)), vec_(kernels::vec_isa(info.cpu_level())) {
    const auto& outputs = info.node().outputs;
    const bool training = info.attr_int("training_mode", 0) != 0 || (info.opset() < 7 && info.attr_int("is_test", 0) == 0) ||
                          (outputs.size() > 1 && std::any_of(outputs.begin() + 1, outputs.end(),
                                                             [](const std::string& name) { return !name.empty(); }));
    if (training)
      throw Error(ErrorCode::NotImplemented,
                  "training mode (batch statistics, running-statistics outputs) is not supported, only inference");
    if (info.attr_int("spatial", 1) == 0)
      throw Error(ErrorCode::NotImplemented, "spatial=0 (per-activation statistics) is not supported");
    int64_t channels = 0;
    if (vec_ && constant_statistics(info, channels))
      folded_ = fold_batch_norm(channels, info.constant_input(1)->data<float>(), info.constant_input(2)->data<float>(),
                                info.constant_input(3)->data<float>(), info.constant_input(4)->data<float>(), epsilon_);
  }

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const ChannelView v = channel_view(x);
    const float* scale = per_channel(ctx.input(1), v.channels, "scale");
    const float* bias = per_channel(ctx.input(2), v.channels, "B");
    const float* mean = per_channel(ctx.input(3), v.channels, "input_mean");
    const float* var = per_channel(ctx.input(4), v.channels, "input_var");
    Tensor& y = ctx.allocate_output(0, DType::Float32, x.shape());
    if (vec_) {
      const bool use_folded = static_cast<int64_t>(folded_.size()) == v.channels;
      const std::vector<kernels::ChannelAffine> computed =
          use_folded ? std::vector<kernels::ChannelAffine>{}
                     : fold_batch_norm(v.channels, scale, bias, mean, var, epsilon_);
      const kernels::ChannelAffine* affine = use_folded ? folded_.data() : computed.data();
      const float* px = x.data<float>();
      float* py = y.data<float>();
      ctx.pool().parallel_for(
          v.batch * v.channels,
          [&](int64_t begin, int64_t end) {
            for (int64_t plane = begin; plane < end; ++plane) {
              const kernels::ChannelAffine& a = affine[plane % v.channels];
              vec_->scale_shift(px + plane * v.spatial, py + plane * v.spatial, v.spatial, a.multiplier, a.offset);
            }
          },
          std::max<int64_t>(1, kernels::kElementwiseGrain / std::max<int64_t>(v.spatial, 1)));
      return;
    }
    split_batch(ctx, v, x.data<float>(), y.data<float>(), [&](const float* xs, float* ys, int64_t batch) {
      kernels::batch_norm_inference_ref(xs, ys, batch, v.channels, v.spatial, scale, bias, mean, var, epsilon_);
    });
  }

 private:
  float epsilon_;
  const kernels::VecIsa* vec_;  // null at CpuLevel::Scalar
  std::vector<kernels::ChannelAffine> folded_;  // from constant statistics; empty when they are not
};
KILN_KERNEL(BatchNormKernel, {.op = "BatchNormalization", .since = 6, .types = types::kFloat});

class InstanceNormKernel final : public OpKernel {
 public:
  explicit InstanceNormKernel(const KernelInfo& info) : epsilon_(info.attr_float("epsilon", 1e-5f)) {}

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const ChannelView v = channel_view(x);
    const float* scale = per_channel(ctx.input(1), v.channels, "scale");
    const float* bias = per_channel(ctx.input(2), v.channels, "B");
    Tensor& y = ctx.allocate_output(0, DType::Float32, x.shape());
    split_batch(ctx, v, x.data<float>(), y.data<float>(), [&](const float* xs, float* ys, int64_t batch) {
      kernels::instance_norm_ref(xs, ys, batch, v.channels, v.spatial, scale, bias, epsilon_);
    });
  }

 private:
  float epsilon_;
};
KILN_KERNEL(InstanceNormKernel, {.op = "InstanceNormalization", .since = 6, .types = types::kFloat});

// Scale or B as one value per normalized element: it broadcasts to the normalized shape X[axis:].
// Usually it has that shape already (give or take leading 1s) and is used in place; otherwise it
// is expanded into `storage`.
const float* per_element(const Tensor& t, const Shape& normalized, const char* name, std::vector<float>& storage) {
  if (!kernels::broadcasts_to(t.shape(), normalized))
    throw Error(ErrorCode::InvalidArgument, std::string(name) + " " + shape_to_string(t.shape()) +
                                                " does not broadcast to the normalized shape " +
                                                shape_to_string(normalized));
  const float* p = t.data<float>();
  if (t.numel() == shape_numel(normalized)) return p;
  storage.resize(static_cast<size_t>(shape_numel(normalized)));
  const std::vector<int64_t> strides[1] = {kernels::broadcast_strides(t.shape(), normalized)};
  kernels::for_each_broadcast(normalized, strides, [&](int64_t i, const int64_t* o) { storage[i] = p[o[0]]; });
  return storage.data();
}

// kiln.LayerNormalization (FuseLayerNorm, FuseSkipLayerNorm) takes a fourth input, skip: the
// normalized tensor is X + skip, added as Add would (broadcasting), within the same pass over
// memory when the two have one shape (a transformer's residual).
// A LayerNorm-style op's view of X: rows of `cols` values, the dims from `axis` on normalized.
struct NormRows {
  size_t axis;
  Shape normalized;
  int64_t rows, cols;
};

NormRows norm_rows(const Shape& shape, int64_t axis) {
  const size_t first = static_cast<size_t>(normalize_axis(axis, static_cast<int64_t>(shape.size())));
  NormRows r{first, Shape(shape.begin() + static_cast<std::ptrdiff_t>(first), shape.end()), 0, 0};
  r.cols = shape_numel(r.normalized);
  r.rows = r.cols == 0 ? 0 : shape_numel(shape) / r.cols;
  return r;
}

// Rows per parallel piece: about 16K values.
int64_t norm_grain(int64_t cols) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(cols, 1)); }

class LayerNormKernel final : public OpKernel {
 public:
  explicit LayerNormKernel(const KernelInfo& info)
      : axis_(info.attr_int("axis", -1)),
        epsilon_(info.attr_float("epsilon", 1e-5f)),
        rows_fn_(info.cpu_level() == CpuLevel::Scalar ? &kernels::layer_norm_ref
                                                      : kernels::vec_isa(info.cpu_level())->layer_norm_rows) {
    if (info.attr_int("stash_type", 1) != 1)
      throw Error(ErrorCode::NotImplemented, "only stash_type=1 (float32 statistics) is supported");
  }

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const Tensor* skip = ctx.input_count() > 3 && ctx.has_input(3) ? &ctx.input(3) : nullptr;
    if (skip && skip->dtype() != DType::Float32)
      throw Error(ErrorCode::InvalidArgument, std::string("skip must be float32, got ") + dtype_name(skip->dtype()));
    const bool skip_per_row = skip && skip->shape() == x.shape();
    const Shape shape = skip ? kernels::broadcast_shapes(x.shape(), skip->shape()) : x.shape();
    const auto [axis, normalized, rows, cols] = norm_rows(shape, axis_);
    std::vector<float> scale_storage, bias_storage;
    const float* scale = per_element(ctx.input(1), normalized, "Scale", scale_storage);
    const float* bias = ctx.has_input(2) ? per_element(ctx.input(2), normalized, "B", bias_storage) : nullptr;

    Tensor& y = ctx.allocate_output(0, DType::Float32, shape);
    // Mean and InvStdDev keep X's rank with the normalized dims set to 1.
    Shape stats_shape(shape.begin(), shape.begin() + static_cast<std::ptrdiff_t>(axis));
    stats_shape.resize(shape.size(), 1);
    float* mean = ctx.output_count() > 1 ? ctx.allocate_output(1, DType::Float32, stats_shape).data<float>() : nullptr;
    float* inv_std_dev = ctx.output_count() > 2 ? ctx.allocate_output(2, DType::Float32, stats_shape).data<float>() : nullptr;

    float* py = y.data<float>();
    if (skip && !skip_per_row) {
      // A skip that broadcasts: the sum is made first, in the output, and normalized in place.
      const float *pa = x.data<float>(), *pb = skip->data<float>();
      const std::vector<int64_t> strides[2] = {kernels::broadcast_strides(x.shape(), shape),
                                               kernels::broadcast_strides(skip->shape(), shape)};
      kernels::for_each_broadcast(shape, strides, [&](int64_t i, const int64_t* o) { py[i] = pa[o[0]] + pb[o[1]]; });
    }
    const float* px = skip ? py : x.data<float>();
    ctx.pool().parallel_for(
        rows,
        [&](int64_t begin, int64_t end) {
          if (skip_per_row) {
            const float *pa = x.data<float>() + begin * cols, *pb = skip->data<float>() + begin * cols;
            float* sum = py + begin * cols;
            for (int64_t i = 0; i < (end - begin) * cols; ++i) sum[i] = pa[i] + pb[i];
          }
          rows_fn_(px + begin * cols, py + begin * cols, end - begin, cols, scale, bias, epsilon_,
                   mean ? mean + begin : nullptr, inv_std_dev ? inv_std_dev + begin : nullptr);
        },
        norm_grain(cols));
  }

 private:
  int64_t axis_;
  float epsilon_;
  // The reference at CpuLevel::Scalar, else the vectorized kernel (same contract).
  decltype(kernels::VecIsa::layer_norm_rows) rows_fn_;
};
KILN_KERNEL(LayerNormKernel, {.op = "LayerNormalization", .since = 17, .types = types::kFloat});
KILN_KERNEL(LayerNormKernel, {.op = "LayerNormalization", .domain = "kiln", .since = 1, .types = types::kFloat});

// kiln.RMSNormalization (FuseRmsNorm): X over its last `axis` dims divided by its root mean square
// sqrt(mean(X^2) + epsilon), times Scale, as Llama-family models normalize.
class RmsNormKernel final : public OpKernel {
 public:
  explicit RmsNormKernel(const KernelInfo& info)
      : axis_(info.attr_int("axis", -1)),
        epsilon_(info.attr_float("epsilon", 1e-5f)),
        rows_fn_(info.cpu_level() == CpuLevel::Scalar ? &kernels::rms_norm_ref
                                                      : kernels::vec_isa(info.cpu_level())->rms_norm_rows) {}

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    if (x.dtype() != DType::Float32)
      throw Error(ErrorCode::InvalidArgument, std::string("X must be float32, got ") + dtype_name(x.dtype()));
    const NormRows r = norm_rows(x.shape(), axis_);
    std::vector<float> scale_storage;
    const float* scale = per_element(ctx.input(1), r.normalized, "Scale", scale_storage);
    const float* px = x.data<float>();
    float* py = ctx.allocate_output(0, DType::Float32, x.shape()).data<float>();
    const int64_t cols = r.cols;
    ctx.pool().parallel_for(
        r.rows,
        [&](int64_t begin, int64_t end) { rows_fn_(px + begin * cols, py + begin * cols, end - begin, cols, scale, epsilon_); },
        norm_grain(cols));
  }

 private:
  int64_t axis_;
  float epsilon_;
  decltype(kernels::VecIsa::rms_norm_rows) rows_fn_;
};
KILN_KERNEL(RmsNormKernel, {.op = "RMSNormalization", .domain = "kiln", .since = 1, .types = types::kFloat});

class LrnKernel final : public OpKernel {
 public:
  explicit LrnKernel(const KernelInfo& info)
      : size_(info.attr_int("size")),
        alpha_(info.attr_float("alpha", 1e-4f)),
        beta_(info.attr_float("beta", 0.75f)),
        bias_(info.attr_float("bias", 1.f)) {
    if (size_ < 1) throw Error(ErrorCode::InvalidModel, "size must be >= 1, got " + std::to_string(size_));
  }

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const ChannelView v = channel_view(x);
    Tensor& y = ctx.allocate_output(0, DType::Float32, x.shape());
    split_batch(ctx, v, x.data<float>(), y.data<float>(), [&](const float* xs, float* ys, int64_t batch) {
      kernels::lrn_ref(xs, ys, batch, v.channels, v.spatial, size_, alpha_, beta_, bias_);
    });
  }

 private:
  int64_t size_;
  float alpha_, beta_, bias_;
};
KILN_KERNEL(LrnKernel, {.op = "LRN", .since = 1, .types = types::kFloat});

class MeanVarianceNormKernel final : public OpKernel {
 public:
  explicit MeanVarianceNormKernel(const KernelInfo& info) : axes_(info.attr_ints("axes", {0, 2, 3})) {}

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    if (x.rank() == 0) throw Error(ErrorCode::InvalidArgument, "X must have rank >= 1");
    std::vector<bool> reduced(x.rank(), false);
    for (int64_t axis : axes_) reduced[static_cast<size_t>(normalize_axis(axis, static_cast<int64_t>(x.rank())))] = true;
    Tensor& y = ctx.allocate_output(0, DType::Float32, x.shape());
    // ONNX's function body adds this epsilon to the standard deviation.
    constexpr float kEpsilon = 1e-9f;
    kernels::mean_variance_normalize_ref(x.data<float>(), y.data<float>(), x.shape(), reduced, kEpsilon);
  }

 private:
  std::vector<int64_t> axes_;
};
KILN_KERNEL(MeanVarianceNormKernel, {.op = "MeanVarianceNormalization", .since = 9, .types = types::kFloat});

}  // namespace
}  // namespace kiln::ops
