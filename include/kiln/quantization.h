// Post-training INT8 quantization (docs/quantization.md): a float ONNX model in, a standard QDQ
// ONNX model (static) or ONNX Runtime's dynamic form out, both of which Kiln and ONNX Runtime run.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kiln/tensor.h"

namespace kiln::quantization {

enum class CalibrationMethod { MinMax, Percentile, Entropy };
enum class ActivationType { UInt8, Int8 };  // uint8 asymmetric, or int8 symmetric

struct StaticOptions {
  CalibrationMethod method = CalibrationMethod::MinMax;
  double percentile = 99.999;  // Percentile: the share of |x| kept
  ActivationType activation_type = ActivationType::UInt8;
  bool per_channel = true;     // weights: one scale per output channel, else per tensor
  std::vector<std::string> exclude;  // node names or op types left float
  bool keep_float_first_last = false;  // leave the first and last Conv/Gemm/MatMul float
  int64_t calibration_count = 0;       // samples used from a folder; 0: all
};

struct DynamicOptions {
  bool per_channel = true;
  std::vector<std::string> exclude;
  std::vector<std::string> op_types = {"MatMul", "Gemm", "Conv"};
};

// One calibration sample: a tensor per model input.
using Sample = std::map<std::string, Tensor>;

// Static quantization calibrated on the .npy samples in a folder (docs/quantization.md names the
// layouts), or on samples in memory. Writes the QDQ model to `output_path`.
void quantize_static(const std::string& model_path, const std::string& output_path, const std::string& calibration_folder,
                     const StaticOptions& options = {});
void quantize_static(const std::string& model_path, const std::string& output_path, const std::vector<Sample>& samples,
                     const StaticOptions& options = {});
void quantize_dynamic(const std::string& model_path, const std::string& output_path, const DynamicOptions& options = {});

}  // namespace kiln::quantization
