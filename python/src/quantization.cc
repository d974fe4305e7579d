// kiln/quantization.h for kiln.quantization (python/kiln/quantization.py), which gives it
// onnxruntime.quantization's shape.
#include <pybind11/stl.h>

#include <cstring>

#include "bindings.h"
#include "kiln/quantization.h"
#include "tensors.h"

namespace kiln::python {
namespace {

quantization::StaticOptions static_options(const std::string& method, double percentile, bool int8_activations,
                                           bool per_channel, const std::vector<std::string>& exclude, bool keep_float,
                                           int64_t count) {
  quantization::StaticOptions o;
  o.method = method == "entropy"      ? quantization::CalibrationMethod::Entropy
             : method == "percentile" ? quantization::CalibrationMethod::Percentile
                                      : quantization::CalibrationMethod::MinMax;
  o.percentile = percentile;
  o.activation_type = int8_activations ? quantization::ActivationType::Int8 : quantization::ActivationType::UInt8;
  o.per_channel = per_channel;
  o.exclude = exclude;
  o.keep_float_first_last = keep_float;
  o.calibration_count = count;
  return o;
}

}  // namespace

void bind_quantization(py::module_& m) {
  m.def(
      "_quantize_static",
      [](const std::string& model, const std::string& output, py::object samples, const std::string& method,
         double percentile, bool int8_activations, bool per_channel, const std::vector<std::string>& exclude,
         bool keep_float, int64_t count) {
        const auto options = static_options(method, percentile, int8_activations, per_channel, exclude, keep_float, count);
        if (py::isinstance<py::str>(samples)) {
          const std::string folder = samples.cast<std::string>();
          py::gil_scoped_release release;
          quantization::quantize_static(model, output, folder, options);
          return;
        }
        // A list of {input name: array}: copied into tensors the quantizer owns, so that it may run
        // without the GIL.
        std::vector<quantization::Sample> list;
        for (py::handle sample : samples) {
          quantization::Sample converted;
          for (auto [name, value] : sample.cast<py::dict>()) {
            const std::string input = name.cast<std::string>();
            Tensor view = tensor_from_python(input, value, DType::Undefined).tensor;
            Tensor copy(view.dtype(), view.shape());
            std::memcpy(copy.raw(), view.raw(), view.nbytes());
            converted.emplace(input, std::move(copy));
          }
          list.push_back(std::move(converted));
          if (count > 0 && static_cast<int64_t>(list.size()) >= count) break;
        }
        py::gil_scoped_release release;
        quantization::quantize_static(model, output, list, options);
      },
      py::arg("model"), py::arg("output"), py::arg("samples"), py::arg("method"), py::arg("percentile"),
      py::arg("int8_activations"), py::arg("per_channel"), py::arg("exclude"), py::arg("keep_float"), py::arg("count"));
  m.def(
      "_quantize_dynamic",
      [](const std::string& model, const std::string& output, bool per_channel, const std::vector<std::string>& exclude,
         const std::vector<std::string>& op_types) {
        quantization::DynamicOptions o;
        o.per_channel = per_channel;
        o.exclude = exclude;
        o.op_types = op_types;
        py::gil_scoped_release release;
        quantization::quantize_dynamic(model, output, o);
      },
      py::arg("model"), py::arg("output"), py::arg("per_channel"), py::arg("exclude"), py::arg("op_types"));
}

}  // namespace kiln::python
