// Negative log-likelihood loss, the loss that NegativeLogLikelihoodLoss computes from
// log-probabilities and SoftmaxCrossEntropyLoss from the log-softmax of its scores. The
// log-probabilities are dense and viewed as [batch, classes, spatial] (spatial: the product of the
// dims after the class dim, 1 for a 2-D input); targets are [batch, spatial].
#pragma once

#include <cstdint>
#include <optional>

namespace kiln::kernels {

enum class LossReduction { None, Sum, Mean };

// Each sample (n, d) with class t = target[n, d] has loss -weight[t] * log_prob[n, t, d] (weight[t]
// read as 1 when `weight` is null) and applied weight weight[t], both 0 when t == ignore_index.
// None writes the batch * spatial losses to `out`; Sum writes their sum, Mean their sum divided by
// the sum of the applied weights (so ignored samples leave the mean; NaN when every sample is
// ignored). Sums are accumulated in double. Throws InvalidArgument for a target outside
// [0, classes) that is not ignore_index. Instantiated for T in {float, double} and Index in
// {int32_t, int64_t}.
template <class T, class Index>
void compute_nll_loss(const T* log_prob, const Index* target, const T* weight, int64_t batch, int64_t classes,
                      int64_t spatial, std::optional<int64_t> ignore_index, LossReduction reduction, T* out);

}  // namespace kiln::kernels
