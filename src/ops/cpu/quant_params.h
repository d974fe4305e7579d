// Reading the scales and zero points of quantized ops. A parameter is per tensor (one element) or
// per channel (a 1-D tensor of one value per channel); both are returned as one value per channel
// so that kernels index them the same way.
#pragma once

#include <cstdint>
#include <vector>

#include "kiln/tensor.h"

namespace kiln::ops {

// `channels` scales from a float32 `scale` of one element or of `channels` elements (1-D).
// Throws NotImplemented for another dtype, InvalidArgument for another shape.
std::vector<float> read_scales(const Tensor& scale, int64_t channels, const char* name);

// The same for a zero point, which must have dtype `expected` (the dtype of the tensor it
// belongs to); an absent one (nullptr) is all zeros.
std::vector<int32_t> read_zero_points(const Tensor* zero_point, DType expected, int64_t channels, const char* name);

// True when a parameter holds a single value, that is, quantizes per tensor.
inline bool is_per_tensor(const Tensor& parameter) { return parameter.numel() == 1 && parameter.rank() <= 1; }

}  // namespace kiln::ops
