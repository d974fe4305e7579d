#include "passes/fold_conv_batch_norm.h"

#include <cmath>

#include "passes/conv_weights.h"
#include "passes/match.h"

namespace kiln::passes {
namespace {

// BatchNormalization in its inference form: one output read, statistics given, per channel.
bool is_inference_batch_norm(const ir::Graph& g, const ir::Node& bn, int64_t channels) {
  if (!is_op(bn, "BatchNormalization") || bn.inputs.size() != 5) return false;
  for (size_t o = 1; o < bn.outputs.size(); ++o)
    if (!bn.outputs[o].empty()) return false;
  if (attribute<int64_t>(bn, "training_mode").value_or(0) != 0 || attribute<int64_t>(bn, "spatial").value_or(1) != 1)
    return false;
  for (size_t i = 1; i < 5; ++i) {
    const Tensor* t = float_initializer(g, bn.inputs[i]);
    if (!t || t->rank() != 1 || t->dim(0) != channels) return false;
  }
  return true;
}

std::optional<ChannelAffine> batch_norm_affine(const ir::Graph& g, const ir::Node& conv, int64_t filters,
                                               const ir::Node& bn) {
  if (!is_inference_batch_norm(g, bn, filters) || bn.inputs[0] != conv.outputs[0]) return std::nullopt;
  const float epsilon = attribute<float>(bn, "epsilon").value_or(1e-5f);
  const float* gamma = g.initializers.at(bn.inputs[1]).data<float>();
  const float* beta = g.initializers.at(bn.inputs[2]).data<float>();
  const float* mean = g.initializers.at(bn.inputs[3]).data<float>();
  const float* var = g.initializers.at(bn.inputs[4]).data<float>();
  ChannelAffine affine{std::vector<float>(static_cast<size_t>(filters)), std::vector<float>(static_cast<size_t>(filters))};
  for (size_t m = 0; m < affine.scale.size(); ++m) {
    affine.scale[m] = gamma[m] / std::sqrt(var[m] + epsilon);
    affine.shift[m] = beta[m] - mean[m] * affine.scale[m];
  }
  return affine;
}

}  // namespace

int FoldConvBatchNorm::run(ir::Model& model) const { return fold_consumers_into_convs(model.graph, batch_norm_affine); }

}  // namespace kiln::passes
