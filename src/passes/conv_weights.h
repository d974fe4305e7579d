// Folding per-output-channel affine maps into a convolution's constant weights and bias: the one
// driver behind the passes that fold BatchNormalization, Mul, Div, Add and Sub into a Conv.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "ir/graph.h"

namespace kiln::passes {

// y[m] = x[m] * scale[m] + shift[m] for each output channel m.
struct ChannelAffine {
  std::vector<float> scale, shift;
};

// The map `consumer` applies to the result of `conv` (which has `filters` output channels), or
// nullopt when it is not one.
using AffineOfConsumer = std::function<std::optional<ChannelAffine>(const ir::Graph& g, const ir::Node& conv,
                                                                    int64_t filters, const ir::Node& consumer)>;

// For each Conv with constant float32 weights (and bias, if any) whose result one node alone
// reads, and which `affine_of` recognizes: the Conv gets weights W[m] * scale[m] and bias
// B[m] * scale[m] + shift[m] under fresh names (the old ones may have other readers), writes the
// consumer's output, and the consumer goes. Returns how many were folded.
int fold_consumers_into_convs(ir::Graph& g, const AffineOfConsumer& affine_of);

}  // namespace kiln::passes
