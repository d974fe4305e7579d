// Dynamic quantization, as ONNX Runtime's quantize_dynamic writes it: each MatMul, Gemm and Conv
// with a constant float weight becomes
//   DynamicQuantizeLinear(x) -> MatMulInteger | ConvInteger (int8 weight, zero point 0)
//     -> Cast(float) -> Mul(x_scale * weight scales) [-> Add(bias)]
// so activations are quantized per tensor at run time from their own range, with no calibration.
// Weights are symmetric int8, one scale per output channel (the Mul applies them).
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"

namespace kiln::quant {

struct DynamicOptions {
  bool per_channel = true;
  std::vector<std::string> exclude;       // node names or op types left float
  std::vector<std::string> op_types = {"MatMul", "Gemm", "Conv"};
};

// Returns the number of nodes quantized.
int quantize_dynamic(ir::Model& model, const DynamicOptions& options);

}  // namespace kiln::quant
