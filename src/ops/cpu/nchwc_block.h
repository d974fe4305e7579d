// What the kiln.Nchwc* ops share: the `block` attribute, and the check that an input is NCHWc.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "kernels/cpu/window_geometry.h"
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

// What the NCHWc convolution kernels support of a window: explicit pads (auto_pad NOTSET or VALID)
// and horizontal strides of 1 or 2. Throws NotImplemented naming what is not.
void check_nchwc_window(const kernels::WindowAttributes& window);

// A bias of `channels` values padded with zeros to whole blocks, as the kernels read it one vector
// at a time. Throws InvalidArgument for a bias of another dtype or shape.
std::vector<float> nchwc_padded_bias(const Tensor& bias, int64_t channels, int64_t block);
// The same for a constant bias, prepared once through the kernel's weight store under `key`.
PreparedWeights prepare_nchwc_padded_bias(const KernelInfo& info, std::string_view key, const Tensor& bias,
                                          int64_t channels, int64_t block);

}  // namespace kiln::ops
