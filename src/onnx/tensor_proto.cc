#include "onnx/tensor_proto.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include "core/read_file.h"

namespace kiln::onnx_io {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void bad(const std::string& what, const std::string& problem) {
  throw Error(ErrorCode::InvalidModel, what + ": " + problem);
}

// A tensor from one of TensorProto's typed fields, each value converted with `convert`. The count is
// checked before allocating, so a huge shape cannot allocate on the strength of a few values.
template <class T, class Field, class Convert>
Tensor from_field(const Field& field, DType dtype, const Shape& shape, const std::string& what, Convert convert) {
  const int64_t numel = shape_numel(shape);
  if (static_cast<int64_t>(field.size()) != numel)
    bad(what, "holds " + std::to_string(field.size()) + " values but its shape " + shape_to_string(shape) +
                  " needs " + std::to_string(numel));
  Tensor t(dtype, shape);
  T* out = static_cast<T*>(t.raw());
  for (int i = 0; i < field.size(); ++i) out[i] = convert(field.Get(i));
  return t;
}

template <class T, class Field>
Tensor from_field(const Field& field, DType dtype, const Shape& shape, const std::string& what) {
  return from_field<T>(field, dtype, shape, what, [](auto v) { return static_cast<T>(v); });
}

std::string read_external(const onnx::TensorProto& proto, const std::string& base_dir, const std::string& what,
                          size_t expected_bytes) {
  std::string location;
  int64_t offset = 0;
  std::optional<int64_t> length;
  for (const auto& entry : proto.external_data()) {
    try {
      if (entry.key() == "location") location = entry.value();
      else if (entry.key() == "offset") offset = std::stoll(entry.value());
      else if (entry.key() == "length") length = std::stoll(entry.value());
    } catch (const std::exception&) {
      bad(what, "external data " + entry.key() + " '" + entry.value() + "' is not a number");
    }
  }
  if (location.empty()) bad(what, "external data has no location");
  if (base_dir.empty())
    bad(what, "has external data in '" + location + "', but the model came without a directory to find it in");
  const fs::path rel(location);
  if (rel.is_absolute()) bad(what, "external data location '" + location + "' must be relative to the model");
  for (const auto& part : rel)
    if (part == "..") bad(what, "external data location '" + location + "' leaves the model's directory");
  std::error_code ec;
  const fs::path base = fs::weakly_canonical(base_dir, ec);
  const fs::path path = fs::weakly_canonical(base / rel, ec);
  // A symbolic link inside the model's directory can still point outside it.
  if (std::mismatch(base.begin(), base.end(), path.begin(), path.end()).first != base.end())
    bad(what, "external data location '" + location + "' resolves to '" + path.string() +
                  "', outside the model's directory");
  const auto file_size = fs::file_size(path, ec);
  if (ec) throw Error(ErrorCode::Io, what + ": cannot open external data file '" + path.string() + "'");
  if (offset < 0 || (length && *length < 0))
    bad(what, "external data offset and length must not be negative");
  if (static_cast<uint64_t>(offset) > file_size || (length && static_cast<uint64_t>(*length) > file_size - offset))
    bad(what, "external data range [" + std::to_string(offset) + ", +" + std::to_string(length.value_or(0)) +
                  ") runs past the end of '" + path.string() + "' (" + std::to_string(file_size) + " bytes)");
  const uint64_t bytes_available = length ? static_cast<uint64_t>(*length) : file_size - offset;
  if (bytes_available != expected_bytes)
    bad(what, "external data holds " + std::to_string(bytes_available) + " bytes, its shape and dtype need " +
                  std::to_string(expected_bytes));
  std::ifstream in(path, std::ios::binary);
  std::string bytes(expected_bytes, '\0');
  in.seekg(offset);
  in.read(bytes.data(), static_cast<std::streamsize>(expected_bytes));
  if (!in) throw Error(ErrorCode::Io, what + ": failed reading external data from '" + path.string() + "'");
  return bytes;
}

}  // namespace

Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& base_dir, const std::string& what) {
  if (!is_known_dtype(proto.data_type())) bad(what, "unknown data type " + std::to_string(proto.data_type()));
  const DType dtype = static_cast<DType>(proto.data_type());
  if (dtype == DType::String)
    throw Error(ErrorCode::NotImplemented, what + ": string tensors are not supported");
  Shape shape(proto.dims().begin(), proto.dims().end());
  for (int64_t d : shape)
    if (d < 0) bad(what, "has negative dimension in shape " + shape_to_string(shape));
  int64_t numel;
  try {
    numel = shape_numel(shape);
  } catch (const Error&) {
    bad(what, "shape " + shape_to_string(shape) + " has too many elements");
  }
  const size_t esize = dtype_size(dtype);
  if (numel > Tensor::kMaxBytes / static_cast<int64_t>(esize))
    bad(what, "shape " + shape_to_string(shape) + " is larger than Kiln's tensor size limit");
  const size_t nbytes = static_cast<size_t>(numel) * esize;

  const bool external = proto.data_location() == onnx::TensorProto::EXTERNAL;
  if (external || proto.has_raw_data()) {
    std::string external_bytes;
    const std::string* bytes = &proto.raw_data();
    if (external) {
      external_bytes = read_external(proto, base_dir, what, nbytes);
      bytes = &external_bytes;
    }
    if (bytes->size() != nbytes)
      bad(what, "raw_data holds " + std::to_string(bytes->size()) + " bytes, its shape " + shape_to_string(shape) +
                    " and dtype " + dtype_name(dtype) + " need " + std::to_string(nbytes));
    Tensor t(dtype, shape);
    if (nbytes) std::memcpy(t.raw(), bytes->data(), nbytes);  // ONNX raw data is little-endian, as is x86
    if (dtype == DType::Bool) {
      // Reading a byte other than 0 or 1 as bool is undefined behaviour; the file may hold any byte.
      auto* flags = static_cast<uint8_t*>(t.raw());
      for (size_t i = 0; i < nbytes; ++i) flags[i] = flags[i] != 0;
    }
    return t;
  }

  switch (dtype) {
    case DType::Float32: return from_field<float>(proto.float_data(), dtype, shape, what);
    case DType::Float64: return from_field<double>(proto.double_data(), dtype, shape, what);
    case DType::Int64: return from_field<int64_t>(proto.int64_data(), dtype, shape, what);
    case DType::UInt32: return from_field<uint32_t>(proto.uint64_data(), dtype, shape, what);
    case DType::UInt64: return from_field<uint64_t>(proto.uint64_data(), dtype, shape, what);
    case DType::Int32: return from_field<int32_t>(proto.int32_data(), dtype, shape, what);
    case DType::Int16: return from_field<int16_t>(proto.int32_data(), dtype, shape, what);
    case DType::UInt16: return from_field<uint16_t>(proto.int32_data(), dtype, shape, what);
    case DType::Int8: return from_field<int8_t>(proto.int32_data(), dtype, shape, what);
    case DType::UInt8: return from_field<uint8_t>(proto.int32_data(), dtype, shape, what);
    case DType::Bool:
      return from_field<bool>(proto.int32_data(), dtype, shape, what, [](int32_t v) { return v != 0; });
    // float16 and bfloat16 travel as their bit patterns in int32_data.
    case DType::Float16:
      return from_field<Float16>(proto.int32_data(), dtype, shape, what,
                                 [](int32_t v) { return Float16{static_cast<uint16_t>(v)}; });
    case DType::BFloat16:
      return from_field<BFloat16>(proto.int32_data(), dtype, shape, what,
                                  [](int32_t v) { return BFloat16{static_cast<uint16_t>(v)}; });
    default: bad(what, std::string("unsupported data type ") + dtype_name(dtype));
  }
}

onnx::TensorProto tensor_to_proto(const Tensor& tensor, const std::string& name) {
  onnx::TensorProto proto;
  proto.set_name(name);
  proto.set_data_type(static_cast<int32_t>(tensor.dtype()));
  for (int64_t d : tensor.shape()) proto.add_dims(d);
  proto.set_raw_data(tensor.raw(), tensor.nbytes());
  return proto;
}

Tensor read_tensor_file(const std::string& path) {
  const std::string bytes = read_file(path);
  onnx::TensorProto proto;
  if (!proto.ParseFromString(bytes)) throw Error(ErrorCode::InvalidModel, "'" + path + "' is not a TensorProto");
  return tensor_from_proto(proto, std::filesystem::path(path).parent_path().string(), "tensor file '" + path + "'");
}

}  // namespace kiln::onnx_io
