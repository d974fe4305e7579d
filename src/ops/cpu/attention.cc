// kiln.Attention (FuseAttention): softmax(scale * Q K^T + mask) V over num_heads heads, with Q, K,
// V and the output as [batch, seq, num_heads * head_size] (kernels/cpu/attention.h). The optional
// mask is added as Add would add it to [batch, num_heads, q_seq, kv_seq] scores, so it may
// broadcast along any of those dims but not widen them.
//
// `expected_dims` = [q batch, q seq, k batch, k seq, v batch, v seq, out batch, out seq] are the
// first two entries of the Reshape targets the fusion replaced: 0 (copy) and -1 (inferred) take
// any size, a positive entry must equal that dim, so the fused node accepts exactly the inputs the
// Reshapes would have turned into heads.
#include <string>

#include "kernels/cpu/attention.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

class AttentionKernel final : public OpKernel {
 public:
  explicit AttentionKernel(const KernelInfo& info)
      : heads_(info.attr_int("num_heads")),
        scale_(info.attr_float("scale")),
        expected_dims_(info.attr_ints("expected_dims")),
        level_(info.cpu_level()) {
    if (heads_ <= 0) throw Error(ErrorCode::InvalidModel, "num_heads must be positive, got " + std::to_string(heads_));
    if (expected_dims_.size() != 8)
      throw Error(ErrorCode::InvalidModel, "expected_dims must have 8 entries, got " + std::to_string(expected_dims_.size()));
  }

  void compute(KernelContext& ctx) const override {
    const char* names[] = {"Q", "K", "V"};
    const Tensor* qkv[3] = {&ctx.input(0), &ctx.input(1), &ctx.input(2)};
    for (int i = 0; i < 3; ++i) {
      const Tensor& t = *qkv[i];
      if (t.dtype() != DType::Float32 || t.rank() != 3 || t.dim(2) % heads_ != 0)
        throw Error(ErrorCode::InvalidArgument, std::string(names[i]) + " must be float32 [batch, seq, heads * head_size] with " +
                                                    std::to_string(heads_) + " heads, got " + dtype_name(t.dtype()) +
                                                    " " + shape_to_string(t.shape()));
    }
    const Tensor &q = *qkv[0], &k = *qkv[1], &v = *qkv[2];
    kernels::AttentionShape s{q.dim(0), q.dim(1), k.dim(1), heads_, q.dim(2) / heads_};
    if (k.shape() != v.shape() || k.dim(0) != s.batch || k.dim(2) != q.dim(2))
      throw Error(ErrorCode::InvalidArgument, "Q " + shape_to_string(q.shape()) + ", K " + shape_to_string(k.shape()) +
                                                  " and V " + shape_to_string(v.shape()) + " do not make one attention");
    const int64_t actual[8] = {s.batch, s.q_seq, s.batch, s.kv_seq, s.batch, s.kv_seq, s.batch, s.q_seq};
    for (size_t i = 0; i < 8; ++i)
      if (expected_dims_[i] > 0 && expected_dims_[i] != actual[i])
        throw Error(ErrorCode::InvalidArgument, std::string("the fused Reshape of ") + "QKVY"[i / 2] + " expects " +
                                                    (i % 2 ? "sequence " : "batch ") + std::to_string(expected_dims_[i]) +
                                                    ", got " + std::to_string(actual[i]));
    kernels::AttentionMask mask;
    if (ctx.has_input(3)) mask = read_mask(ctx.input(3), s);
    float* out = ctx.allocate_output(0, DType::Float32, q.shape()).data<float>();
    kernels::attention(level_, s, q.data<float>(), k.data<float>(), v.data<float>(), mask, scale_, out, ctx.pool());
  }

 private:
  static kernels::AttentionMask read_mask(const Tensor& m, const kernels::AttentionShape& s) {
    const int64_t scores[4] = {s.batch, s.heads, s.q_seq, s.kv_seq};
    bool fits = m.dtype() == DType::Float32 && m.rank() <= 4;
    int64_t strides[4] = {0, 0, 0, 0}, stride = 1;
    for (size_t d = 0; fits && d < m.rank(); ++d) {
      const size_t axis = 3 - d, mask_axis = m.rank() - 1 - d;
      const int64_t size = m.dim(mask_axis);
      fits = size == 1 || size == scores[axis];
      strides[axis] = size == 1 ? 0 : stride;
      stride *= size;
    }
    if (!fits)
      throw Error(ErrorCode::InvalidArgument, "mask " + std::string(dtype_name(m.dtype())) + " " + shape_to_string(m.shape()) +
                                                  " does not broadcast to the scores [" + std::to_string(s.batch) + "," +
                                                  std::to_string(s.heads) + "," + std::to_string(s.q_seq) + "," +
                                                  std::to_string(s.kv_seq) + "] without widening them");
    return {m.data<float>(), strides[0], strides[1], strides[2], strides[3]};
  }

  int64_t heads_;
  float scale_;
  std::vector<int64_t> expected_dims_;
  CpuLevel level_;
};
KILN_KERNEL(AttentionKernel, {.op = "Attention", .domain = "kiln", .since = 1, .types = types::kFloat});

}  // namespace
}  // namespace kiln::ops
