// Rewrites a float graph into QDQ form from a plan (qdq_plan.h) and calibrated ranges: each
// quantized tensor T gets QuantizeLinear -> DequantizeLinear and its readers read the dequantized
// value; weights become int8 initializers and biases int32 ones, each read through a
// DequantizeLinear; the plan's removed activations go. The result is standard ONNX (opset 13 for
// per-channel parameters) in topological order.
#pragma once

#include <map>
#include <string>

#include "ir/graph.h"
#include "quant/calibrator.h"
#include "quant/qdq_plan.h"

namespace kiln::quant {

// The parameters given to each quantized activation, by tensor name (shared ones included).
using ActivationParams = std::map<std::string, TensorQuantization>;

ActivationParams activation_params(const QdqPlan& plan, const std::map<std::string, TensorRange>& ranges,
                                   ActivationType type);

void insert_qdq(ir::Model& model, const QdqPlan& plan, const ActivationParams& params);

// The name of the dequantized value insert_qdq makes for tensor `name`: what the report compares.
std::string dequantized_name(const std::string& name);

}  // namespace kiln::quant
