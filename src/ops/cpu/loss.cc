// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (opset 12 on; 13 only widened the types).
// SoftmaxCrossEntropyLoss is NegativeLogLikelihoodLoss applied to the log-softmax of its scores
// along the class axis, so one kernel serves both: the scores' log-softmax goes to the optional
// log_prob output (or to scratch when that output is absent) and feeds the same loss.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "kernels/cpu/loss_ref.h"
#include "kernels/cpu/softmax_ref.h"
#include "ops/cpu/parse_choice.h"
#include "ops/cpu/type_list.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

using kernels::LossReduction;

// Input 0 is [N, C, d1, ..., dk]; the target must be [N, d1, ..., dk] and the weight [C].
void check_shapes(const Tensor& input, const Tensor& target, const Tensor* weight) {
  const Shape& dims = input.shape();
  if (dims.size() < 2)
    throw Error(ErrorCode::InvalidArgument, "input must have rank >= 2 ([N, C, ...]), got " + shape_to_string(dims));
  Shape expected_target = {dims[0]};
  expected_target.insert(expected_target.end(), dims.begin() + 2, dims.end());
  if (target.shape() != expected_target)
    throw Error(ErrorCode::InvalidArgument, "target must have shape " + shape_to_string(expected_target) +
                                                " for input " + shape_to_string(dims) + ", got " +
                                                shape_to_string(target.shape()));
  if (weight && weight->shape() != Shape{dims[1]})
    throw Error(ErrorCode::InvalidArgument, "weight must have shape [" + std::to_string(dims[1]) +
                                                "] (one value per class), got " + shape_to_string(weight->shape()));
}

// kFromScores: input 0 holds scores (SoftmaxCrossEntropyLoss) rather than log-probabilities.
template <bool kFromScores>
class LossKernel final : public OpKernel {
 public:
  explicit LossKernel(const KernelInfo& info)
      : reduction_(parse_choice<LossReduction>(
            info, "reduction", "mean",
            {{"none", LossReduction::None}, {"sum", LossReduction::Sum}, {"mean", LossReduction::Mean}})),
        ignore_index_(info.has_attr("ignore_index") ? std::optional<int64_t>(info.attr_int("ignore_index"))
                                                    : std::nullopt) {}

  void compute(KernelContext& ctx) const override {
    const Tensor& input = ctx.input(0);
    const Tensor& target = ctx.input(1);
    const Tensor* weight = ctx.has_input(2) ? &ctx.input(2) : nullptr;
    check_shapes(input, target, weight);
    const Shape& dims = input.shape();
    const int64_t batch = dims[0], classes = dims[1];
    const int64_t spatial = target.numel() / std::max<int64_t>(batch, 1);
    const Shape loss_shape = reduction_ == LossReduction::None ? target.shape() : Shape{};
    Tensor& loss = ctx.allocate_output(0, input.dtype(), loss_shape);
    Tensor scratch;  // the scores' log-softmax when the node has no log_prob output
    FloatTypes::dispatch(input.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* log_prob = input.data<T>();
      if constexpr (kFromScores) {
        Tensor& log_softmax = ctx.output_count() > 1 ? ctx.allocate_output(1, input.dtype(), dims)
                                                     : (scratch = Tensor(input.dtype(), dims));
        const T* scores = input.data<T>();
        T* out = log_softmax.data<T>();
        const int64_t item = classes * spatial;
        ctx.pool().parallel_for(batch, [&](int64_t begin, int64_t end) {
          kernels::log_softmax_ref(scores + begin * item, out + begin * item, end - begin, classes, spatial);
        });
        log_prob = out;
      }
      const T* weights = weight ? weight->data<T>() : nullptr;
      dispatch_dtype<int32_t, int64_t>(target.dtype(), [&](auto index_tag) {
        using Index = typename decltype(index_tag)::type;
        kernels::compute_nll_loss<T, Index>(log_prob, target.data<Index>(), weights, batch, classes, spatial,
                                            ignore_index_, reduction_, loss.data<T>());
      });
    });
  }

 private:
  LossReduction reduction_;
  std::optional<int64_t> ignore_index_;
};

using NllLossKernel = LossKernel<false>;
KILN_KERNEL(NllLossKernel, {.op = "NegativeLogLikelihoodLoss", .since = 12, .types = FloatTypes::dtypes()});
using SoftmaxCrossEntropyLossKernel = LossKernel<true>;
KILN_KERNEL(SoftmaxCrossEntropyLossKernel,
            {.op = "SoftmaxCrossEntropyLoss", .since = 12, .types = FloatTypes::dtypes()});

}  // namespace
}  // namespace kiln::ops
