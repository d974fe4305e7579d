// numpy arrays <-> kiln::Tensor without copies where the memory allows it: an input array that is
// C-contiguous, aligned and native-endian is wrapped in place, and an output tensor becomes an
// array over its own buffer, which the array keeps alive.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "kiln/tensor.h"

namespace kiln::python {

namespace py = pybind11;

struct Feed {
  Tensor tensor;
  bool read_only = false;  // the array's memory must not be written through an output that shares it
};

// `value` (an array, or anything numpy.asarray takes: lists and scalars are converted to
// `expected`, the input's dtype, when it is known) as the tensor fed to input `name`. An array of
// another dtype is passed as it is, for the session to refuse with its own message.
// Error(NotImplemented) naming the input for a numpy dtype Kiln has no tensors of.
Feed tensor_from_python(const std::string& name, py::handle value, DType expected);

// An array over the buffer of output `name`, keeping the tensor alive (its base); read-only
// unless `writeable`.
py::array array_from_tensor(const std::string& name, Tensor tensor, bool writeable);

}  // namespace kiln::python
