// What the kiln.Nchwc* ops share: the `block` attribute, and the check that an input is NCHWc.
#pragma once

#include <cstdint>
#include <vector>

#include "ops/kernel.h"

namespace kiln::ops {

// The node's `block`, which must be the NCHWc block of the session's CPU level
// (kernels::nchwc_block): the kernels are compiled for one vector width per level, and the layout
// pass chose the block for the level the session runs at. Throws InvalidModel naming both.
int64_t read_nchwc_block(const KernelInfo& info);

// Throws InvalidArgument unless x is float32 [N, blocks, H, W, block].
void check_nchwc_input(const Tensor& x, int64_t block);

// Convolution weights: input `index` (called `name` in errors) must be a non-empty float32
// initializer of rank 4, since the kernels pack it once. Throws InvalidModel otherwise.
const Tensor& nchwc_constant_weights(const KernelInfo& info, size_t index, const char* name);

// A bias of `channels` values padded with zeros to whole blocks, as the kernels read it one vector
// at a time. Throws InvalidArgument for a bias of another dtype or shape.
std::vector<float> nchwc_padded_bias(const Tensor& bias, int64_t channels, int64_t block);

}  // namespace kiln::ops
