// NumPy .npy files (format versions 1-3, little-endian, C order) <-> kiln::Tensor.
#pragma once

#include <string>

#include "kiln/tensor.h"

namespace kiln {

Tensor read_npy(const std::string& path);
Tensor parse_npy(const std::string& bytes, const std::string& what);
void write_npy(const std::string& path, const Tensor& tensor);

}  // namespace kiln
