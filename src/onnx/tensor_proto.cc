#include "onnx/tensor_proto.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace kiln::onnx_io {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void bad(const std::string& what, const std::string& problem) {
  throw Error(ErrorCode::InvalidModel, what + ": " + problem);
}

// Copies `count` typed-field values into the tensor, converting each with `convert`.
template <class T, class Field, class Convert>
void copy_field(const Field& field, Tensor& t, const std::string& what, Convert convert) {
  if (static_cast<int64_t>(field.size()) != t.numel())
    bad(what, "holds " + std::to_string(field.size()) + " values but its shape " + shape_to_string(t.shape()) +
                  " needs " + std::to_string(t.numel()));
  T* out = static_cast<T*>(t.raw());
  for (int i = 0; i < field.size(); ++i) out[i] = convert(field.Get(i));
}

template <class T, class Field>
void copy_field(const Field& field, Tensor& t, const std::string& what) {
  copy_field<T>(field, t, what, [](auto v) { return static_cast<T>(v); });
}

std::string read_external(const onnx::TensorProto& proto, const std::string& base_dir, const std::string& what,
                          size_t expected_bytes) {
  std::string location;
  int64_t offset = 0;
  int64_t length = -1;
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
  const fs::path rel(location);
  if (rel.is_absolute()) bad(what, "external data location '" + location + "' must be relative to the model");
  for (const auto& part : rel)
    if (part == "..") bad(what, "external data location '" + location + "' leaves the model's directory");
  const fs::path path = fs::path(base_dir) / rel;
  std::error_code ec;
  const auto file_size = fs::file_size(path, ec);
  if (ec) throw Error(ErrorCode::Io, what + ": cannot open external data file '" + path.string() + "'");
  if (offset < 0) bad(what, "external data offset is negative");
  if (length < 0) length = static_cast<int64_t>(file_size) - offset;
  if (static_cast<uint64_t>(length) != expected_bytes)
    bad(what, "external data holds " + std::to_string(length) + " bytes, its shape and dtype need " +
                  std::to_string(expected_bytes));
  if (static_cast<uint64_t>(offset) > file_size || static_cast<uint64_t>(length) > file_size - offset)
    bad(what, "external data range [" + std::to_string(offset) + ", +" + std::to_string(length) +
                  ") runs past the end of '" + path.string() + "' (" + std::to_string(file_size) + " bytes)");
  std::ifstream in(path, std::ios::binary);
  std::string bytes(static_cast<size_t>(length), '\0');
  in.seekg(offset);
  in.read(bytes.data(), length);
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
    return t;
  }

  Tensor t(dtype, shape);
  switch (dtype) {
    case DType::Float32: copy_field<float>(proto.float_data(), t, what); break;
    case DType::Float64: copy_field<double>(proto.double_data(), t, what); break;
    case DType::Int64: copy_field<int64_t>(proto.int64_data(), t, what); break;
    case DType::UInt32: copy_field<uint32_t>(proto.uint64_data(), t, what); break;
    case DType::UInt64: copy_field<uint64_t>(proto.uint64_data(), t, what); break;
    case DType::Int32: copy_field<int32_t>(proto.int32_data(), t, what); break;
    case DType::Int16: copy_field<int16_t>(proto.int32_data(), t, what); break;
    case DType::UInt16: copy_field<uint16_t>(proto.int32_data(), t, what); break;
    case DType::Int8: copy_field<int8_t>(proto.int32_data(), t, what); break;
    case DType::UInt8: copy_field<uint8_t>(proto.int32_data(), t, what); break;
    case DType::Bool: copy_field<bool>(proto.int32_data(), t, what, [](int32_t v) { return v != 0; }); break;
    // float16 and bfloat16 travel as their bit patterns in int32_data.
    case DType::Float16:
      copy_field<Float16>(proto.int32_data(), t, what, [](int32_t v) { return Float16{static_cast<uint16_t>(v)}; });
      break;
    case DType::BFloat16:
      copy_field<BFloat16>(proto.int32_data(), t, what, [](int32_t v) { return BFloat16{static_cast<uint16_t>(v)}; });
      break;
    default: bad(what, std::string("unsupported data type ") + dtype_name(dtype));
  }
  return t;
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
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::Io, "cannot open '" + path + "'");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string bytes = buffer.str();
  onnx::TensorProto proto;
  if (!proto.ParseFromString(bytes)) throw Error(ErrorCode::InvalidModel, "'" + path + "' is not a TensorProto");
  return tensor_from_proto(proto, std::filesystem::path(path).parent_path().string(), "tensor file '" + path + "'");
}

}  // namespace kiln::onnx_io
