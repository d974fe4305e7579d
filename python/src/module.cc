// The extension module kiln._kiln: the C++ side of the Python package kiln (python/kiln/).
#include "bindings.h"
#include "errors.h"

PYBIND11_MODULE(_kiln, m) {
  m.doc() = "Kiln's C++ API (kiln/session.h, kiln/llm.h, kiln/quantization.h), shaped for Python by the kiln package";
  m.attr("__version__") = KILN_VERSION;
  kiln::python::register_error_translator(m);
  kiln::python::bind_session(m);
  kiln::python::bind_llm(m);
  kiln::python::bind_quantization(m);
}
