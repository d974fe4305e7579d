// What the kiln.Nchwc* ops share: the `block` attribute, and the check that an input is NCHWc.
#pragma once

#include <cstdint>

#include "ops/kernel.h"

namespace kiln::ops {

// The node's `block`, which must be the NCHWc block of the session's CPU level
// (kernels::nchwc_block): the kernels are compiled for one vector width per level, and the layout
// pass chose the block for the level the session runs at. Throws InvalidModel naming both.
int64_t read_nchwc_block(const KernelInfo& info);

// Throws InvalidArgument unless x is float32 [N, blocks, H, W, block].
void check_nchwc_input(const Tensor& x, int64_t block);

}  // namespace kiln::ops
