#include "llm/safetensors.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

namespace kiln::llm {
namespace {

// Ordered, so that entries() keeps the header's order and a written header the caller's.
using json = nlohmann::ordered_json;

// As Hugging Face's reader: a larger header is not a checkpoint, and parsing it would cost memory.
constexpr uint64_t kMaxHeaderBytes = uint64_t{100} << 20;
// Checkpoint headers are two levels deep (names, then each tensor's fields and arrays).
constexpr int kMaxJsonDepth = 8;

struct DtypeName {
  const char* name;
  DType dtype;
};
constexpr DtypeName kDtypes[] = {
    {"F64", DType::Float64}, {"F32", DType::Float32}, {"F16", DType::Float16}, {"BF16", DType::BFloat16},
    {"I64", DType::Int64},   {"I32", DType::Int32},   {"I16", DType::Int16},   {"I8", DType::Int8},
    {"U64", DType::UInt64},  {"U32", DType::UInt32},  {"U16", DType::UInt16},  {"U8", DType::UInt8},
    {"BOOL", DType::Bool},
};

[[noreturn]] void malformed(const std::string& source, const std::string& what) {
  throw Error(ErrorCode::InvalidModel, source + ": not a valid safetensors file: " + what);
}

DType dtype_from_name(const std::string& source, const std::string& tensor, const std::string& name) {
  for (const DtypeName& d : kDtypes)
    if (name == d.name) return d.dtype;
  if (name.rfind("F8_", 0) == 0)
    throw Error(ErrorCode::NotImplemented, source + ": tensor '" + tensor + "' has dtype " + name +
                                               ", which Kiln does not support");
  malformed(source, "tensor '" + tensor + "' has unknown dtype '" + name + "'");
}

const char* name_of_dtype(DType dtype) {
  for (const DtypeName& d : kDtypes)
    if (d.dtype == dtype) return d.name;
  return nullptr;
}

uint64_t read_u64_le(const std::byte* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | static_cast<uint64_t>(p[i]);
  return v;
}

// The JSON header; a name given twice at the top level is an error (a JSON object may repeat a
// key, and which value a reader keeps would be up to the reader).
json parse_header(const std::string& source, const char* begin, const char* end) {
  if (begin == end || *begin != '{') malformed(source, "the header does not start with '{'");
  std::set<std::string> names;
  const json::parser_callback_t check = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > kMaxJsonDepth) malformed(source, "the header nests deeper than " + std::to_string(kMaxJsonDepth));
    if (event == json::parse_event_t::key && depth == 1 && !names.insert(parsed.get<std::string>()).second)
      malformed(source, "tensor '" + parsed.get<std::string>() + "' is listed twice");
    return true;
  };
  try {
    return json::parse(begin, end, check);
  } catch (const json::exception& e) {
    malformed(source, std::string("the header is not JSON (") + e.what() + ")");
  }
}

uint64_t unsigned_field(const std::string& source, const std::string& tensor, const json& value, const char* what) {
  if (!value.is_number_unsigned()) malformed(source, "tensor '" + tensor + "': " + what + " must be non-negative integers");
  return value.get<uint64_t>();
}

SafetensorsEntry read_entry(const std::string& source, const std::string& name, const json& info) {
  if (!info.is_object()) malformed(source, "tensor '" + name + "' is not an object");
  const auto dtype = info.find("dtype");
  const auto shape = info.find("shape");
  const auto offsets = info.find("data_offsets");
  if (dtype == info.end() || !dtype->is_string()) malformed(source, "tensor '" + name + "' has no dtype string");
  if (shape == info.end() || !shape->is_array()) malformed(source, "tensor '" + name + "' has no shape array");
  if (offsets == info.end() || !offsets->is_array() || offsets->size() != 2)
    malformed(source, "tensor '" + name + "' has no data_offsets [begin, end]");
  SafetensorsEntry entry;
  entry.name = name;
  entry.dtype = dtype_from_name(source, name, dtype->get<std::string>());
  // Sizes up to 2^62 keep the element count's products in range; beyond, no file holds the bytes.
  uint64_t elements = 1;
  for (const json& d : *shape) {
    const uint64_t size = unsigned_field(source, name, d, "shape dims");
    if (size > (uint64_t{1} << 62) || (size != 0 && elements > (uint64_t{1} << 62) / size))
      malformed(source, "tensor '" + name + "' has more elements than any file holds");
    elements *= size;
    entry.shape.push_back(static_cast<int64_t>(size));
  }
  const uint64_t begin = unsigned_field(source, name, (*offsets)[0], "data_offsets");
  const uint64_t end = unsigned_field(source, name, (*offsets)[1], "data_offsets");
  if (end < begin) malformed(source, "tensor '" + name + "' ends before it begins");
  const uint64_t bytes = elements * dtype_size(entry.dtype);
  if (end - begin != bytes)
    malformed(source, "tensor '" + name + "' of " + std::to_string(elements) + " elements needs " +
                          std::to_string(bytes) + " bytes, its data_offsets hold " + std::to_string(end - begin));
  entry.begin = static_cast<size_t>(begin);
  entry.end = static_cast<size_t>(end);
  return entry;
}

// The ranges must cover [0, data_size) once each, in any order of the header.
void check_tiling(const std::string& source, std::vector<const SafetensorsEntry*> by_offset, uint64_t data_size) {
  std::sort(by_offset.begin(), by_offset.end(), [](const auto* a, const auto* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t covered = 0;
  for (const SafetensorsEntry* e : by_offset) {
    if (e->begin != covered)
      malformed(source, "tensor '" + e->name + "' starts at byte " + std::to_string(e->begin) + " of the data, expected " +
                            std::to_string(covered) + (e->begin < covered ? " (it overlaps another)" : " (a gap)"));
    covered = e->end;
  }
  if (covered != data_size)
    malformed(source, "the tensors hold " + std::to_string(covered) + " bytes of data, the file has " +
                          std::to_string(data_size));
}

}  // namespace

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  std::shared_ptr<const MappedFile> file = MappedFile::open(path);
  const std::byte* data = file->data();
  const size_t size = file->size();
  return parse(std::move(file), data, size, path);
}

SafetensorsFile SafetensorsFile::parse(std::shared_ptr<const void> owner, const std::byte* data, size_t size,
                                       const std::string& source) {
  if (size < 8) malformed(source, "it has " + std::to_string(size) + " bytes, fewer than the 8 of the header length");
  const uint64_t header_bytes = read_u64_le(data);
  if (header_bytes > kMaxHeaderBytes) malformed(source, "its header length " + std::to_string(header_bytes) + " is over 100 MB");
  if (header_bytes > size - 8)
    malformed(source, "its header length " + std::to_string(header_bytes) + " runs past the end of the file");
  const auto* header = reinterpret_cast<const char*>(data + 8);
  const json root = parse_header(source, header, header + header_bytes);
  if (!root.is_object()) malformed(source, "the header is not a JSON object");

  SafetensorsFile file;
  file.owner_ = std::move(owner);
  file.data_section_ = data + 8 + header_bytes;
  file.source_ = source;
  for (const auto& [name, info] : root.items()) {
    if (name == "__metadata__") {
      if (!info.is_object()) malformed(source, "__metadata__ is not an object");
      for (const auto& [key, value] : info.items()) {
        if (!value.is_string()) malformed(source, "__metadata__ entry '" + key + "' is not a string");
        file.metadata_[key] = value.get<std::string>();
      }
      continue;
    }
    file.index_[name] = file.entries_.size();
    file.entries_.push_back(read_entry(source, name, info));
  }
  std::vector<const SafetensorsEntry*> by_offset;
  for (const auto& e : file.entries_) by_offset.push_back(&e);
  check_tiling(source, std::move(by_offset), size - 8 - header_bytes);
  return file;
}

const SafetensorsEntry* SafetensorsFile::find(const std::string& name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

Tensor SafetensorsFile::tensor(const std::string& name) const {
  const SafetensorsEntry* entry = find(name);
  if (!entry) throw Error(ErrorCode::InvalidArgument, source_ + ": no tensor named '" + name + "'");
  // The mapping is private and writable (core/mapped_file.h), so a view may be written.
  auto* bytes = const_cast<std::byte*>(data_section_ + entry->begin);
  if (reinterpret_cast<uintptr_t>(bytes) % dtype_size(entry->dtype) == 0)
    return Tensor::wrap(entry->dtype, entry->shape, bytes, std::const_pointer_cast<void>(owner_));
  Tensor copy(entry->dtype, entry->shape);
  std::memcpy(copy.raw(), bytes, entry->end - entry->begin);
  return copy;
}

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  size_t offset = 0;
  for (const auto& [name, t] : tensors) {
    const char* dtype = name_of_dtype(t.dtype());
    if (!dtype) throw Error(ErrorCode::InvalidArgument, "safetensors has no dtype for tensor '" + name + "' (" +
                                                            dtype_name(t.dtype()) + ")");
    if (name == "__metadata__" || header.contains(name))
      throw Error(ErrorCode::InvalidArgument, "tensor name '" + name + "' is repeated or reserved");
    header[name] = {{"dtype", dtype}, {"shape", t.shape()}, {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  char length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<char>(static_cast<uint64_t>(text.size()) >> (8 * i) & 0xff);
  out.write(length, 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (const auto& [name, t] : tensors) out.write(static_cast<const char*>(t.raw()), static_cast<std::streamsize>(t.nbytes()));
  out.close();
  if (!out) throw Error(ErrorCode::Io, "cannot write '" + path + "'");
}

}  // namespace kiln::llm
