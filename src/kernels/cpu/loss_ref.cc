#include "kernels/cpu/loss_ref.h"

#include <string>

#include "kiln/error.h"

namespace kiln::kernels {

template <class T, class Index>
void compute_nll_loss(const T* log_prob, const Index* target, const T* weight, int64_t batch, int64_t classes,
                      int64_t spatial, std::optional<int64_t> ignore_index, LossReduction reduction, T* out) {
  double loss_sum = 0, weight_sum = 0;
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t d = 0; d < spatial; ++d) {
      const int64_t sample = n * spatial + d;
      const auto t = static_cast<int64_t>(target[sample]);
      double loss = 0;
      if (t != ignore_index) {
        if (t < 0 || t >= classes)
          throw Error(ErrorCode::InvalidArgument, "target " + std::to_string(t) + " at index " + std::to_string(sample) +
                                                      " is outside [0, " + std::to_string(classes) +
                                                      ") and is not ignore_index");
        const double w = weight ? static_cast<double>(weight[t]) : 1.0;
        loss = -w * static_cast<double>(log_prob[(n * classes + t) * spatial + d]);
        weight_sum += w;
      }
      if (reduction == LossReduction::None) out[sample] = static_cast<T>(loss);
      loss_sum += loss;
    }
  }
  if (reduction == LossReduction::Sum) out[0] = static_cast<T>(loss_sum);
  if (reduction == LossReduction::Mean) out[0] = static_cast<T>(loss_sum / weight_sum);
}

template void compute_nll_loss<float, int32_t>(const float*, const int32_t*, const float*, int64_t, int64_t, int64_t,
                                               std::optional<int64_t>, LossReduction, float*);
template void compute_nll_loss<float, int64_t>(const float*, const int64_t*, const float*, int64_t, int64_t, int64_t,
                                               std::optional<int64_t>, LossReduction, float*);
template void compute_nll_loss<double, int32_t>(const double*, const int32_t*, const double*, int64_t, int64_t,
                                                int64_t, std::optional<int64_t>, LossReduction, double*);
template void compute_nll_loss<double, int64_t>(const double*, const int64_t*, const double*, int64_t, int64_t,
                                                int64_t, std::optional<int64_t>, LossReduction, double*);

}  // namespace kiln::kernels
