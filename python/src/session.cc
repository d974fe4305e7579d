// kiln._kiln.Session: kiln::Session for kiln/session.py, which gives it onnxruntime's shape.
// Loading and running release the GIL, so Python threads run one session in parallel.
#include <pybind11/stl.h>

#include <algorithm>
#include <map>

#include "bindings.h"
#include "kiln/session.h"
#include "tensors.h"

namespace kiln::python {
namespace {

// The dtype a run expects for the input or overridable initializer `name`; Undefined for a name
// the model lacks, which the run then reports with the names it has.
DType expected_dtype(const Session& session, const std::string& name) {
  for (const auto* infos : {&session.inputs(), &session.overridable_initializers()})
    for (const TensorInfo& info : *infos)
      if (info.name == name) return info.dtype;
  return DType::Undefined;
}

py::list run(const Session& session, const std::vector<std::string>& output_names, const py::dict& input_feed) {
  std::map<std::string, Tensor> feeds;
  std::vector<const void*> read_only;  // owners of arrays that must stay unwritten
  for (const auto& [key, value] : input_feed) {
    if (!py::isinstance<py::str>(key))
      throw py::type_error("input names must be str, got " + py::repr(key).cast<std::string>());
    const auto name = key.cast<std::string>();
    Feed feed = tensor_from_python(name, value, expected_dtype(session, name));
    if (feed.read_only) read_only.push_back(feed.tensor.owner().get());
    feeds.emplace(name, std::move(feed.tensor));
  }
  std::vector<std::string> names = output_names;
  if (names.empty())
    for (const TensorInfo& info : session.outputs()) names.push_back(info.name);
  std::vector<Tensor> outputs;
  {
    py::gil_scoped_release release;
    outputs = session.run(feeds, names);
  }
  // Outputs are the run's own buffers (a constant comes back as a copy), writable unless one is an
  // input's read-only memory passed through (Identity).
  py::list arrays;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const bool writeable = std::find(read_only.begin(), read_only.end(), outputs[i].owner().get()) == read_only.end();
    arrays.append(array_from_tensor(names[i], std::move(outputs[i]), writeable));
  }
  return arrays;
}

}  // namespace

void bind_session(py::module_& m) {
  py::class_<SessionOptions>(m, "SessionOptions")
      .def(py::init<>())
      .def_readwrite("threads", &SessionOptions::threads)
      .def_readwrite("optimization_level", &SessionOptions::optimization_level)
      .def_readwrite("cpu_level", &SessionOptions::cpu_level)
      .def_readwrite("spin_wait_us", &SessionOptions::spin_wait_us)
      .def_readwrite("dim_overrides", &SessionOptions::dim_overrides)
      .def_readwrite("disabled_passes", &SessionOptions::disabled_passes)
      .def_readwrite("enable_profiling", &SessionOptions::enable_profiling)
      .def_readwrite("profile_file_prefix", &SessionOptions::profile_file_prefix)
      .def_readwrite("optimized_model_path", &SessionOptions::optimized_model_path);

  // dtype is ONNX's TensorProto number (kiln::DType's values are ONNX's); shape is None when the
  // rank is unknown, with -1 for a dim of unknown size, whose name (if any) is in dim_names.
  py::class_<TensorInfo>(m, "TensorInfo")
      .def_readonly("name", &TensorInfo::name)
      .def_property_readonly("dtype", [](const TensorInfo& info) { return static_cast<int>(info.dtype); })
      .def_readonly("shape", &TensorInfo::shape)
      .def_readonly("dim_names", &TensorInfo::dim_names);

  py::class_<ModelMetadata>(m, "ModelMetadata")
      .def_readonly("producer_name", &ModelMetadata::producer_name)
      .def_readonly("producer_version", &ModelMetadata::producer_version)
      .def_readonly("graph_name", &ModelMetadata::graph_name)
      .def_readonly("graph_description", &ModelMetadata::graph_description)
      .def_readonly("domain", &ModelMetadata::domain)
      .def_readonly("description", &ModelMetadata::description)
      .def_readonly("version", &ModelMetadata::version)
      .def_readonly("custom_metadata_map", &ModelMetadata::custom_metadata_map);

  py::class_<Session, std::shared_ptr<Session>>(m, "Session")
      .def(py::init([](const std::string& path, const SessionOptions& options) {
             py::gil_scoped_release release;
             return std::make_shared<Session>(path, options);
           }),
           py::arg("path"), py::arg("options"))
      .def_static(
          "from_bytes",
          [](const py::bytes& model, const SessionOptions& options, const std::string& base_dir) {
            const std::string_view bytes = model;
            py::gil_scoped_release release;
            return std::make_shared<Session>(bytes.data(), bytes.size(), options, base_dir);
          },
          py::arg("model"), py::arg("options"), py::arg("base_dir") = "")
      .def_property_readonly("inputs", &Session::inputs)
      .def_property_readonly("outputs", &Session::outputs)
      .def_property_readonly("overridable_initializers", &Session::overridable_initializers)
      .def_property_readonly("metadata", &Session::metadata)
      .def_property_readonly("cpu_level", &Session::cpu_level)
      .def("run", &run, py::arg("output_names"), py::arg("input_feed"),
           "Runs with the arrays of `input_feed` by name; returns the outputs named (all when empty), in order.")
      .def(
          "end_profiling",
          [](Session& session, const std::string& path) {
            py::gil_scoped_release release;
            return session.end_profiling(path);
          },
          py::arg("path") = "");
}

}  // namespace kiln::python
