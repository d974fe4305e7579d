#include "passes/fold_conv_scale_bias.h"

#include <optional>

#include "passes/conv_weights.h"
#include "passes/match.h"

namespace kiln::passes {
namespace {

// c's value for each of `filters` output channels of a result of rank `rank`, when c broadcasts
// along the channels alone; nullopt otherwise.
std::optional<std::vector<float>> per_channel(const Tensor& c, int64_t filters, size_t rank) {
  if (c.rank() > rank) return std::nullopt;
  const size_t offset = rank - c.rank();  // c's dim j lines up with the result's dim offset + j
  bool varies = false;
  for (size_t j = 0; j < c.rank(); ++j) {
    const int64_t d = c.dim(j);
    if (offset + j == 1 && d == filters && d != 1) {
      varies = true;
    } else if (d != 1) {
      return std::nullopt;
    }
  }
  std::vector<float> values(static_cast<size_t>(filters));
  for (int64_t m = 0; m < filters; ++m) values[static_cast<size_t>(m)] = c.data<float>()[varies ? m : 0];
  return values;
}

std::optional<ChannelAffine> elementwise_affine(const ir::Graph& g, const ir::Node& conv, int64_t filters,
                                                const ir::Node& op) {
  const bool mul = is_op(op, "Mul"), div = is_op(op, "Div"), add = is_op(op, "Add"), sub = is_op(op, "Sub");
  if (!(mul || div || add || sub) || op.inputs.size() != 2 || op.outputs.size() != 1) return std::nullopt;
  const bool conv_first = op.inputs[0] == conv.outputs[0];
  if ((div || sub) && !conv_first) return std::nullopt;
  const Tensor* c = float_initializer(g, op.inputs[conv_first ? 1 : 0]);
  if (!c) return std::nullopt;
  const auto values = per_channel(*c, filters, g.initializers.at(conv.inputs[1]).rank());
  if (!values) return std::nullopt;
  ChannelAffine affine{std::vector<float>(values->size(), 1.f), std::vector<float>(values->size(), 0.f)};
  for (size_t m = 0; m < values->size(); ++m) {
    const float v = (*values)[m];
    if (div && v == 0.f) return std::nullopt;
    if (mul) affine.scale[m] = v;
    if (div) affine.scale[m] = 1.f / v;
    if (add) affine.shift[m] = v;
    if (sub) affine.shift[m] = -v;
  }
  return affine;
}

}  // namespace

int FoldConvScaleBias::run(ir::Model& model) const { return fold_consumers_into_convs(model.graph, elementwise_affine); }

}  // namespace kiln::passes
