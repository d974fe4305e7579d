#include "core/npy.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include "core/read_file.h"

namespace kiln {
namespace {

struct DescrEntry {
  const char* descr;
  DType dtype;
};
constexpr DescrEntry kDescrs[] = {
    {"<f4", DType::Float32}, {"<f8", DType::Float64}, {"<f2", DType::Float16}, {"|i1", DType::Int8},
    {"|u1", DType::UInt8},   {"<i2", DType::Int16},   {"<u2", DType::UInt16},  {"<i4", DType::Int32},
    {"<u4", DType::UInt32},  {"<i8", DType::Int64},   {"<u8", DType::UInt64},  {"|b1", DType::Bool},
};

[[noreturn]] void bad(const std::string& what, const std::string& problem) {
  throw Error(ErrorCode::InvalidArgument, what + ": " + problem);
}

// Returns the text of a key's value in the header dict, e.g. "'<f4'" or "(1, 3)".
std::string dict_value(const std::string& header, const std::string& key, const std::string& what) {
  const auto k = header.find("'" + key + "'");
  if (k == std::string::npos) bad(what, "npy header has no '" + key + "'");
  auto p = header.find(':', k);
  if (p == std::string::npos) bad(what, "npy header is malformed");
  ++p;
  while (p < header.size() && header[p] == ' ') ++p;
  if (p >= header.size()) bad(what, "npy header is malformed");
  if (header[p] == '(') {
    const auto e = header.find(')', p);
    if (e == std::string::npos) bad(what, "npy header shape is not closed");
    return header.substr(p, e - p + 1);
  }
  const auto e = header.find_first_of(",}", p);
  if (e == std::string::npos) bad(what, "npy header is malformed");
  return header.substr(p, e - p);
}

}  // namespace

Tensor parse_npy(const std::string& bytes, const std::string& what) {
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) bad(what, "not a .npy file");
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len, header_start;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8;
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) bad(what, "truncated .npy header");
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= static_cast<size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    header_start = 12;
  } else {
    bad(what, "unsupported .npy version " + std::to_string(major));
  }
  if (header_len > bytes.size() - header_start) bad(what, "truncated .npy header");
  const std::string header = bytes.substr(header_start, header_len);

  std::string descr = dict_value(header, "descr", what);
  if (descr.size() < 2) bad(what, "npy descr is malformed");
  descr = descr.substr(1, descr.size() - 2);
  // '<' little-endian, '|' not applicable, '=' native (little on x86); '>' is refused.
  DType dtype = DType::Undefined;
  if (descr.size() == 3 && (descr[0] == '<' || descr[0] == '|' || descr[0] == '='))
    for (const auto& d : kDescrs)
      if (descr.compare(1, 2, d.descr + 1) == 0) dtype = d.dtype;
  if (dtype == DType::Undefined) bad(what, "unsupported npy dtype '" + descr + "'");
  if (dict_value(header, "fortran_order", what).find("True") != std::string::npos)
    bad(what, "Fortran-order arrays are not supported; save with np.ascontiguousarray");

  Shape shape;
  const std::string shape_text = dict_value(header, "shape", what);
  std::stringstream ss(shape_text.substr(1, shape_text.size() - 2));
  std::string item;
  while (std::getline(ss, item, ',')) {
    const auto first = item.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    try {
      size_t used = 0;
      const long long d = std::stoll(item.substr(first), &used);
      if (d < 0) bad(what, "negative dimension in npy shape");
      shape.push_back(d);
    } catch (const std::logic_error&) {
      bad(what, "npy shape '" + shape_text + "' is malformed");
    }
  }
  const size_t data_start = header_start + header_len;
  const int64_t numel = shape_numel(shape);
  if (numel > Tensor::kMaxBytes / static_cast<int64_t>(dtype_size(dtype))) bad(what, "npy array is too large");
  const size_t nbytes = static_cast<size_t>(numel) * dtype_size(dtype);
  if (bytes.size() - data_start != nbytes)
    bad(what, "npy data holds " + std::to_string(bytes.size() - data_start) + " bytes, shape " + shape_to_string(shape) +
                  " needs " + std::to_string(nbytes));
  Tensor t(dtype, shape);
  if (nbytes) std::memcpy(t.raw(), bytes.data() + data_start, nbytes);
  return t;
}

Tensor read_npy(const std::string& path) { return parse_npy(read_file(path), "'" + path + "'"); }

void write_npy(const std::string& path, const Tensor& tensor) {
  const char* descr = nullptr;
  for (const auto& d : kDescrs)
    if (d.dtype == tensor.dtype()) descr = d.descr;
  if (!descr) throw Error(ErrorCode::InvalidArgument, std::string("cannot write dtype ") + dtype_name(tensor.dtype()) + " to .npy");
  std::string shape = "(";
  for (size_t i = 0; i < tensor.rank(); ++i) shape += (i ? ", " : "") + std::to_string(tensor.dim(i));
  shape += tensor.rank() == 1 ? ",)" : ")";
  std::string header = "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad so that the data starts on a 64-byte boundary, as NumPy does.
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  if (!out) throw Error(ErrorCode::Io, "cannot write '" + path + "'");
  out.write("\x93NUMPY\x01\x00", 8);
  const char len[2] = {static_cast<char>(header.size() & 0xff), static_cast<char>(header.size() >> 8)};
  out.write(len, 2);
  out << header;
  out.write(static_cast<const char*>(tensor.raw()), static_cast<std::streamsize>(tensor.nbytes()));
  if (!out) throw Error(ErrorCode::Io, "failed writing '" + path + "'");
}

}  // namespace kiln
