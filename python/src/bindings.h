// The parts of the extension module kiln._kiln, each binding one public C++ API.
#pragma once

#include <pybind11/pybind11.h>

namespace kiln::python {

namespace py = pybind11;

void bind_session(py::module_& m);  // kiln/session.h
void bind_llm(py::module_& m);      // kiln/llm.h
void bind_quantization(py::module_& m);  // kiln/quantization.h

}  // namespace kiln::python
