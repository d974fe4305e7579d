// The public kiln/quantization.h over the quantizer.
#include "kiln/quantization.h"

#include "onnx/exporter.h"
#include "onnx/importer.h"
#include "quant/quantizer.h"

namespace kiln::quantization {
namespace {

static_assert(static_cast<int>(CalibrationMethod::Entropy) == static_cast<int>(quant::CalibrationMethod::Entropy) &&
                  static_cast<int>(CalibrationMethod::Percentile) == static_cast<int>(quant::CalibrationMethod::Percentile),
              "the public and internal calibration methods are listed in the same order");

quant::StaticOptions internal_options(const StaticOptions& options) {
  quant::StaticOptions o;
  o.calibration.method = static_cast<quant::CalibrationMethod>(options.method);
  o.calibration.percentile = options.percentile;
  o.qdq.activation_type =
      options.activation_type == ActivationType::Int8 ? quant::ActivationType::Int8 : quant::ActivationType::UInt8;
  o.qdq.per_channel = options.per_channel;
  o.qdq.exclude = options.exclude;
  o.qdq.keep_float_first_last = options.keep_float_first_last;
  return o;
}

void quantize_with(const std::string& output_path, const quant::CalibrationSamples& samples,
                   const ir::Model& model, const StaticOptions& options) {
  onnx_io::save_model(quant::quantize_static(model, samples, internal_options(options)).model, output_path);
}

}  // namespace

void quantize_static(const std::string& model_path, const std::string& output_path, const std::string& calibration_folder,
                     const StaticOptions& options) {
  const ir::Model model = onnx_io::load_model(model_path);
  const quant::CalibrationData samples(calibration_folder, quant::graph_input_names(model.graph), options.calibration_count);
  quantize_with(output_path, samples, model, options);
}

void quantize_static(const std::string& model_path, const std::string& output_path, const std::vector<Sample>& samples,
                     const StaticOptions& options) {
  const ir::Model model = onnx_io::load_model(model_path);
  quantize_with(output_path, quant::CalibrationSampleList(samples), model, options);
}

void quantize_dynamic(const std::string& model_path, const std::string& output_path, const DynamicOptions& options) {
  quant::DynamicOptions o;
  o.per_channel = options.per_channel;
  o.exclude = options.exclude;
  o.op_types = options.op_types;
  onnx_io::save_model(quant::quantize_dynamic_model(onnx_io::load_model(model_path), o), output_path);
}

}  // namespace kiln::quantization
