#include "tensors.h"

#include <memory>
#include <optional>

#include "kiln/error.h"

namespace kiln::python {
namespace {

// numpy describes a dtype by kind and size; byte order is dealt with apart (readable_array).
std::optional<DType> kiln_dtype(const py::dtype& dtype) {
  struct Kind {
    char kind;
    py::ssize_t size;
    DType dtype;
  };
  static constexpr Kind kKinds[] = {
      {'f', 4, DType::Float32}, {'f', 8, DType::Float64}, {'f', 2, DType::Float16}, {'i', 1, DType::Int8},
      {'i', 2, DType::Int16},   {'i', 4, DType::Int32},   {'i', 8, DType::Int64},   {'u', 1, DType::UInt8},
      {'u', 2, DType::UInt16},  {'u', 4, DType::UInt32},  {'u', 8, DType::UInt64},  {'b', 1, DType::Bool},
  };
  for (const Kind& k : kKinds)
    if (k.kind == dtype.kind() && k.size == dtype.itemsize()) return k.dtype;
  return std::nullopt;
}

py::dtype numpy_dtype(DType dtype, const std::string& what) {
  if (dtype == DType::Undefined || dtype == DType::String || dtype == DType::BFloat16)
    throw Error(ErrorCode::NotImplemented, what + " is " + dtype_name(dtype) + ", which numpy has no dtype for");
  return py::dtype(dtype_name(dtype));
}

py::module_ numpy() { return py::module_::import("numpy"); }

// C-contiguous, aligned and in this machine's byte order: what a kernel can read in place.
py::array readable_array(py::array array) {
  constexpr int kInPlace = static_cast<int>(py::array::c_style) | static_cast<int>(py::detail::npy_api::NPY_ARRAY_ALIGNED_);
  if (!array.dtype().attr("isnative").cast<bool>())
    array = array.attr("astype")(array.dtype().attr("newbyteorder")("="));
  if ((array.flags() & kInPlace) != kInPlace) array = numpy().attr("ascontiguousarray")(array);
  return array;
}

}  // namespace

Feed tensor_from_python(const std::string& name, py::handle value, DType expected) {
  py::array array;
  if (py::isinstance<py::array>(value)) {
    array = py::reinterpret_borrow<py::array>(value);
  } else if (expected == DType::Undefined || expected == DType::String || expected == DType::BFloat16) {
    array = numpy().attr("asarray")(value);
  } else {
    array = numpy().attr("asarray")(value, numpy_dtype(expected, "input '" + name + "'"));
  }
  const std::optional<DType> dtype = kiln_dtype(array.dtype());
  if (!dtype)
    throw Error(ErrorCode::NotImplemented, "input '" + name + "' is a numpy array of dtype " +
                                               py::str(array.dtype()).cast<std::string>() +
                                               ", which Kiln has no tensors of");
  array = readable_array(std::move(array));
  Feed feed;
  feed.read_only = !array.writeable();
  Shape shape(array.shape(), array.shape() + array.ndim());
  void* data = const_cast<void*>(array.data());
  // The tensor may be dropped by a thread that does not hold the GIL (the end of a run);
  // after the interpreter has finalized there is nothing left to release.
  std::shared_ptr<void> owner(array.release().ptr(), [](void* object) {
    if (!Py_IsInitialized()) return;
    py::gil_scoped_acquire gil;
    Py_DECREF(static_cast<PyObject*>(object));
  });
  feed.tensor = Tensor::wrap(*dtype, std::move(shape), data, std::move(owner));
  return feed;
}

py::array array_from_tensor(const std::string& name, Tensor tensor, bool writeable) {
  const py::dtype dtype = numpy_dtype(tensor.dtype(), "output '" + name + "'");
  auto* kept = new Tensor(std::move(tensor));
  py::capsule base(kept, [](void* t) { delete static_cast<Tensor*>(t); });
  py::array array(dtype, std::vector<py::ssize_t>(kept->shape().begin(), kept->shape().end()), kept->raw(), base);
  if (!writeable) array.attr("setflags")(py::arg("write") = false);
  return array;
}

}  // namespace kiln::python
