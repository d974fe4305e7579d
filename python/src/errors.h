// kiln::Error raised in Python as the kiln.errors class of its code (kiln.InvalidArgument, ...),
// with Kiln's own message.
#pragma once

#include <pybind11/pybind11.h>

namespace kiln::python {

void register_error_translator(pybind11::module_& module);

}  // namespace kiln::python
