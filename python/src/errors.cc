#include "errors.h"

#include "kiln/error.h"

namespace kiln::python {
namespace {

// The class names kiln/errors.py defines, one per ErrorCode.
const char* error_class(ErrorCode code) {
  switch (code) {
    case ErrorCode::InvalidArgument: return "InvalidArgument";
    case ErrorCode::InvalidModel: return "InvalidModel";
    case ErrorCode::NotImplemented: return "NotImplemented";
    case ErrorCode::Io: return "IoError";
    case ErrorCode::Runtime: return "RuntimeException";
  }
  return "KilnError";
}

}  // namespace

void register_error_translator(pybind11::module_& module) {
  pybind11::register_local_exception_translator([](std::exception_ptr error) {
    try {
      std::rethrow_exception(error);
    } catch (const Error& e) {
      const pybind11::object type = pybind11::module_::import("kiln.errors").attr(error_class(e.code()));
      PyErr_SetString(type.ptr(), e.what());
    }
  });
}

}  // namespace kiln::python
