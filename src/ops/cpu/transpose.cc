// Transpose and the ops that are a transpose of a reshaped view: DepthToSpace and SpaceToDepth.
#include "kernels/cpu/strided_copy.h"
#include "kernels/cpu/transpose_blocked.h"
#include "ops/cpu/dispatch.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

// `x` seen as shape `view` (same element count), with its axes permuted: output axis k is view axis
// perm[k]. Permutations that move the innermost axis are copied in tiles; the others keep their
// innermost runs contiguous and are copied row by row. `isa` (null at the Scalar level) moves tiles
// of 4-byte elements through vector registers.
Tensor permute(const Tensor& x, const Shape& view, const std::vector<int64_t>& perm, const kernels::VecIsa* isa,
               ThreadPool& pool) {
  Shape out_shape;
  for (int64_t p : perm) out_shape.push_back(view[static_cast<size_t>(p)]);
  Tensor out(x.dtype(), out_shape);
  if (kernels::transpose_blocked(out.raw(), x.raw(), dtype_size(x.dtype()), view, perm, isa, pool)) return out;
  const std::vector<int64_t> strides = kernels::dense_strides(view);
  std::vector<kernels::AxisSource> axes;
  for (int64_t p : perm)
    axes.push_back(kernels::identity_axis(view[static_cast<size_t>(p)], strides[static_cast<size_t>(p)]));
  kernels::strided_copy(out.raw(), x.raw(), dtype_size(x.dtype()), axes, nullptr, pool);
  return out;
}

class TransposeKernel final : public OpKernel {
 public:
  explicit TransposeKernel(const KernelInfo& info)
      : perm_(info.attr_ints("perm", {})), vec_(kernels::vec_isa(info.cpu_level())) {}
  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    std::vector<int64_t> perm = perm_;
    if (perm.empty())
      for (size_t i = x.rank(); i-- > 0;) perm.push_back(static_cast<int64_t>(i));
    std::vector<bool> seen(x.rank(), false);
    bool valid = perm.size() == x.rank();
    for (int64_t p : perm) {
      valid = valid && p >= 0 && p < static_cast<int64_t>(x.rank()) && !seen[static_cast<size_t>(p)];
      if (valid) seen[static_cast<size_t>(p)] = true;
    }
    if (!valid)
      throw Error(ErrorCode::InvalidModel, "perm " + shape_to_string(perm) + " is not a permutation of the axes of " +
                                               shape_to_string(x.shape()));
    ctx.set_output(0, permute(x, x.shape(), perm, vec_, ctx.pool()));
  }

 private:
  std::vector<int64_t> perm_;
  const kernels::VecIsa* vec_;
};
KILN_KERNEL(TransposeKernel, {.op = "Transpose", .since = 1});

int64_t positive_blocksize(const KernelInfo& info) {
  const int64_t b = info.attr_int("blocksize");
  if (b <= 0) throw Error(ErrorCode::InvalidModel, "blocksize must be positive, got " + std::to_string(b));
  return b;
}

void check_rank4(const Tensor& x) {
  if (x.rank() != 4)
    throw Error(ErrorCode::InvalidArgument, "input must be 4-D [N,C,H,W], got " + shape_to_string(x.shape()));
}

// DCR ("depth-column-row", the default) takes the block offsets from the high channel bits; CRD
// takes them from the low bits, keeping each output channel's block together.
bool is_crd_mode(const KernelInfo& info) {
  const std::string mode = info.attr_string("mode", "DCR");
  if (mode != "DCR" && mode != "CRD") throw Error(ErrorCode::InvalidModel, "unknown mode '" + mode + "'");
  return mode == "CRD";
}

class DepthToSpaceKernel final : public OpKernel {
 public:
  explicit DepthToSpaceKernel(const KernelInfo& info)
      : block_(positive_blocksize(info)), crd_(is_crd_mode(info)), vec_(kernels::vec_isa(info.cpu_level())) {}
  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    check_rank4(x);
    const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), b = block_;
    if (c % (b * b) != 0)
      throw Error(ErrorCode::InvalidArgument,
                  "channels " + std::to_string(c) + " are not divisible by blocksize^2 " + std::to_string(b * b));
    const int64_t depth = c / (b * b);
    const Tensor out = crd_ ? permute(x, {n, depth, b, b, h, w}, {0, 1, 4, 2, 5, 3}, vec_, ctx.pool())
                            : permute(x, {n, b, b, depth, h, w}, {0, 3, 4, 1, 5, 2}, vec_, ctx.pool());
    ctx.set_output(0, out.reshaped({n, depth, h * b, w * b}));
  }

 private:
  int64_t block_;
  bool crd_;
  const kernels::VecIsa* vec_;
};
KILN_KERNEL(DepthToSpaceKernel, {.op = "DepthToSpace", .since = 1});

class SpaceToDepthKernel final : public OpKernel {
 public:
  explicit SpaceToDepthKernel(const KernelInfo& info)
      : block_(positive_blocksize(info)), vec_(kernels::vec_isa(info.cpu_level())) {}
  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    check_rank4(x);
    const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), b = block_;
    if (h % b != 0 || w % b != 0)
      throw Error(ErrorCode::InvalidArgument, "spatial dims of " + shape_to_string(x.shape()) +
                                                  " are not divisible by blocksize " + std::to_string(b));
    const Tensor out = permute(x, {n, c, h / b, b, w / b, b}, {0, 3, 5, 1, 2, 4}, vec_, ctx.pool());
    ctx.set_output(0, out.reshaped({n, c * b * b, h / b, w / b}));
  }

 private:
  int64_t block_;
  const kernels::VecIsa* vec_;
};
KILN_KERNEL(SpaceToDepthKernel, {.op = "SpaceToDepth", .since = 1});

}  // namespace
}  // namespace kiln::ops
