// Kiln's post-training quantizer, the library behind `kiln quantize` and kiln.quantization: a float
// ONNX model in, a standard QDQ (static) or DynamicQuantizeLinear (dynamic) ONNX model out, which
// Kiln and ONNX Runtime both run.
//
// Static quantization works on the model after Kiln's basic optimizations (constants folded,
// BatchNormalization folded into Conv), so that each quantized weight is the one that runs.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"
#include "quant/calibrator.h"
#include "quant/qdq_plan.h"
#include "quant/quantize_dynamic.h"

namespace kiln::quant {

struct StaticOptions {
  QdqOptions qdq;
  CalibrationOptions calibration;
};

// Per quantized tensor: how far the quantized model's value (its DequantizeLinear output) is from
// the float model's, over all calibration samples.
struct TensorError {
  std::string tensor;
  std::string producer;  // "node 'conv1' (Conv)", or "graph input"
  double cosine = 1;     // cosine similarity of the two, all samples as one vector
  double sqnr_db = 0;    // 10 log10(|float|^2 / |float - quantized|^2); infinite when equal
};

struct StaticResult {
  ir::Model model;            // the QDQ model
  ir::Model float_model;      // the float model it was made from (basic optimizations applied)
  QdqPlan plan;
};

// Quantizes `model` (as loaded) with activation ranges calibrated on `samples`.
StaticResult quantize_static(ir::Model model, const CalibrationSamples& samples, const StaticOptions& options,
                             const CalibrationProgress& progress = {});

// Dynamic quantization after the same basic optimizations.
ir::Model quantize_dynamic_model(ir::Model model, const DynamicOptions& options);

// The error of every quantized activation of `result`, worst (lowest SQNR) first.
std::vector<TensorError> quantization_errors(const StaticResult& result, const CalibrationSamples& samples,
                                             const CalibrationProgress& progress = {});

// The names of the model's inputs, which calibration samples are keyed by.
std::vector<std::string> graph_input_names(const ir::Graph& graph);

}  // namespace kiln::quant
