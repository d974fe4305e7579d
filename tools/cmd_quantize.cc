// `kiln quantize MODEL.onnx -o MODEL.int8.onnx --calib DIR`: post-training INT8 quantization into
// standard QDQ ONNX (or, with --dynamic, ONNX Runtime's dynamic form), docs/quantization.md.
#include <cmath>
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "onnx/exporter.h"
#include "onnx/importer.h"
#include "progress_bar.h"
#include "quant/quantizer.h"

namespace kiln::cli {
namespace {

struct QuantizeArgs {
  std::string model, output, calibration_folder, method = "minmax", activation_type = "uint8";
  int64_t calibration_count = 0;
  double percentile = 99.999;
  std::vector<std::string> exclude;
  bool keep_float_first_last = false, per_tensor = false, dynamic = false;
  int report = 0;
};

void print_report(const std::vector<quant::TensorError>& errors, int rows) {
  std::printf("%-40s %-36s %9s %9s\n", "tensor", "produced by", "cosine", "SQNR dB");
  for (size_t i = 0; i < errors.size() && static_cast<int>(i) < rows; ++i) {
    const auto& e = errors[i];
    std::printf("%-40s %-36s %9.6f %9.2f\n", e.tensor.c_str(), e.producer.c_str(), e.cosine,
                std::isinf(e.sqnr_db) ? 999.0 : e.sqnr_db);
  }
}

void quantize(const QuantizeArgs& args) {
  ir::Model model = onnx_io::load_model(args.model);
  const size_t before = model.graph.nodes.size();
  if (args.dynamic) {
    quant::DynamicOptions options;
    options.per_channel = !args.per_tensor;
    options.exclude = args.exclude;
    const ir::Model quantized = quant::quantize_dynamic_model(std::move(model), options);
    onnx_io::save_model(quantized, args.output);
    std::cout << args.model << ": " << before << " nodes -> " << args.output << ": " << quantized.graph.nodes.size()
              << " nodes (dynamic int8)\n";
    return;
  }
  if (args.calibration_folder.empty())
    throw Error(ErrorCode::InvalidArgument, "static quantization needs calibration samples: give --calib DIR, or use --dynamic");
  quant::StaticOptions options;
  options.qdq.activation_type = args.activation_type == "int8" ? quant::ActivationType::Int8 : quant::ActivationType::UInt8;
  options.qdq.per_channel = !args.per_tensor;
  options.qdq.exclude = args.exclude;
  options.qdq.keep_float_first_last = args.keep_float_first_last;
  options.calibration.method = quant::parse_calibration_method(args.method);
  options.calibration.percentile = args.percentile;
  const quant::CalibrationData samples(args.calibration_folder, quant::graph_input_names(model.graph), args.calibration_count);
  const quant::StaticResult result = quant::quantize_static(std::move(model), samples, options, terminal_progress_bar());
  onnx_io::save_model(result.model, args.output);
  std::cout << args.model << ": " << before << " nodes -> " << args.output << ": " << result.model.graph.nodes.size()
            << " nodes (" << result.plan.quantized_nodes.size() << " quantized, "
            << quant::calibration_method_name(options.calibration.method) << " calibration)\n";
  if (args.report > 0)
    print_report(quant::quantization_errors(result, samples, terminal_progress_bar()), args.report);
}

}  // namespace

void add_quantize_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("quantize", "Quantize a float ONNX model to INT8 (QDQ, or dynamic)");
  auto args = std::make_shared<QuantizeArgs>();
  cmd->add_option("model", args->model, "float ONNX model")->required()->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", args->output, "where to write the quantized model")->required();
  cmd->add_option("--calib", args->calibration_folder,
                  "folder of calibration samples: .npy files, <input>_<id>.npy or a subfolder per input")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--calib-count", args->calibration_count, "use only the first N samples (default: all)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--method", args->method, "activation range: minmax, percentile, entropy (default: minmax)")
      ->check(CLI::IsMember({"minmax", "percentile", "entropy"}));
  cmd->add_option("--percentile", args->percentile, "the percentile of |x| kept by --method percentile (default 99.999)")
      ->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--activation-type", args->activation_type, "uint8 (asymmetric, default) or int8 (symmetric)")
      ->check(CLI::IsMember({"uint8", "int8"}));
  cmd->add_flag("--per-tensor", args->per_tensor, "one scale per weight tensor instead of per output channel");
  cmd->add_option("--exclude", args->exclude, "node names or op types to leave float")->delimiter(',');
  cmd->add_flag("--keep-float", args->keep_float_first_last, "leave the first and last Conv/Gemm/MatMul float");
  cmd->add_flag("--dynamic", args->dynamic, "dynamic quantization: int8 weights, activations quantized at run time");
  cmd->add_option("--report", args->report, "print the N quantized tensors with the largest error (cosine, SQNR)")
      ->check(CLI::PositiveNumber);
  cmd->callback([args] { quantize(*args); });
}

}  // namespace kiln::cli
