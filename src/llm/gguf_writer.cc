#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>

#include "llm/ggml_blocks.h"
#include "llm/gguf.h"
#include "llm/gguf_format.h"

namespace kiln::llm {
namespace {

[[noreturn]] void invalid(const std::string& what) { throw Error(ErrorCode::InvalidArgument, "save_gguf: " + what); }

class Encoder {
 public:
  template <class T>
  void put(T value) {
    const size_t at = bytes_.size();
    bytes_.resize(at + sizeof value);
    std::memcpy(bytes_.data() + at, &value, sizeof value);
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    bytes_ += s;
  }
  void pad_to(uint64_t alignment) { bytes_.append((alignment - bytes_.size() % alignment) % alignment, '\0'); }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

template <class T>
void put_checked(Encoder& e, uint64_t value, const std::string& key) {
  if (value > std::numeric_limits<T>::max()) invalid("metadata key '" + key + "' holds " + std::to_string(value) + ", too large for its type");
  e.put(static_cast<T>(value));
}

template <class T>
void put_checked(Encoder& e, int64_t value, const std::string& key) {
  if (value < std::numeric_limits<T>::min() || value > std::numeric_limits<T>::max())
    invalid("metadata key '" + key + "' holds " + std::to_string(value) + ", outside its type's range");
  e.put(static_cast<T>(value));
}

void put_items(Encoder& e, const GgufValue& v, const std::string& key) {
  for (size_t i = 0; i < v.size(); ++i) {
    switch (v.item_type) {
      case GgufType::UInt8: put_checked<uint8_t>(e, v.uints[i], key); break;
      case GgufType::UInt16: put_checked<uint16_t>(e, v.uints[i], key); break;
      case GgufType::UInt32: put_checked<uint32_t>(e, v.uints[i], key); break;
      case GgufType::UInt64: e.put(v.uints[i]); break;
      case GgufType::Bool:
        if (v.uints[i] > 1) invalid("metadata key '" + key + "' holds a Bool other than 0 or 1");
        e.put(static_cast<uint8_t>(v.uints[i]));
        break;
      case GgufType::Int8: put_checked<int8_t>(e, v.ints[i], key); break;
      case GgufType::Int16: put_checked<int16_t>(e, v.ints[i], key); break;
      case GgufType::Int32: put_checked<int32_t>(e, v.ints[i], key); break;
      case GgufType::Int64: e.put(v.ints[i]); break;
      case GgufType::Float32: e.put(static_cast<float>(v.floats[i])); break;
      case GgufType::Float64: e.put(v.floats[i]); break;
      case GgufType::String: e.put_string(v.strings[i]); break;
      case GgufType::Array: {
        const GgufValue& item = v.arrays[i];
        e.put(static_cast<uint32_t>(item.item_type));
        e.put<uint64_t>(item.size());
        put_items(e, item, key);
        break;
      }
    }
  }
}

void put_value(Encoder& e, const std::string& key, const GgufValue& v) {
  if (!gguf_type_name(v.type) || !gguf_type_name(v.item_type)) invalid("metadata key '" + key + "' has an unknown type");
  if (!v.is_array() && (v.item_type != v.type || v.size() != 1))
    invalid("metadata key '" + key + "' is a scalar without exactly one value of its type");
  e.put_string(key);
  e.put(static_cast<uint32_t>(v.type));
  if (v.is_array()) {
    e.put(static_cast<uint32_t>(v.item_type));
    e.put<uint64_t>(v.size());
  }
  put_items(e, v, key);
}

template <class Block, Block (*quantize)(const float*)>
void quantize_into(const GgufTensorToWrite& t, std::byte* out) {
  const float* x = t.values.data<float>();
  for (int64_t i = 0; i < t.values.numel(); ++i)
    if (!std::isfinite(x[i])) invalid("tensor '" + t.name + "' holds a value that is not finite, which blocks cannot quantize");
  for (int64_t b = 0; b < t.values.numel() / Block::kElements; ++b) {
    const Block block = quantize(x + b * Block::kElements);
    std::memcpy(out + b * static_cast<int64_t>(sizeof(Block)), &block, sizeof block);
  }
}

template <class Half, Half (*narrow)(float)>
void narrow_into(const GgufTensorToWrite& t, DType stored, std::byte* out) {
  if (t.values.dtype() == stored) {
    std::memcpy(out, t.values.raw(), t.values.nbytes());
    return;
  }
  const float* x = t.values.data<float>();
  for (int64_t i = 0; i < t.values.numel(); ++i) {
    const Half h = narrow(x[i]);
    std::memcpy(out + 2 * i, &h, 2);
  }
}

// The tensor's bytes as `t.type` stores them; `bytes` is what checked_bytes gave.
std::string encode(const GgufTensorToWrite& t, uint64_t bytes) {
  std::string out(bytes, '\0');
  auto* p = reinterpret_cast<std::byte*>(out.data());
  switch (t.type) {
    case GgmlType::F32: std::memcpy(p, t.values.raw(), bytes); break;
    case GgmlType::F16: narrow_into<Float16, to_float16>(t, DType::Float16, p); break;
    case GgmlType::BF16: narrow_into<BFloat16, to_bfloat16>(t, DType::BFloat16, p); break;
    case GgmlType::Q8_0: quantize_into<BlockQ8_0, quantize_block_q8_0>(t, p); break;
    case GgmlType::Q4_0: quantize_into<BlockQ4_0, quantize_block_q4_0>(t, p); break;
  }
  return out;
}

// The bytes `t.type` stores the tensor in, once its dtype, rank and rows are checked.
uint64_t checked_bytes(const GgufTensorToWrite& t) {
  const GgmlLayout* layout = ggml_layout(static_cast<uint32_t>(t.type));
  if (!layout) invalid("tensor '" + t.name + "' has a ggml type Kiln does not write");
  const DType dtype = t.values.dtype();
  const bool as_stored = (t.type == GgmlType::F16 && dtype == DType::Float16) ||
                         (t.type == GgmlType::BF16 && dtype == DType::BFloat16);
  if (dtype != DType::Float32 && !as_stored)
    invalid("tensor '" + t.name + "' of dtype " + dtype_name(dtype) + " cannot be stored as " + layout->name);
  const Shape& shape = t.values.shape();
  if (shape.empty() || shape.size() > 4)
    invalid("tensor '" + t.name + "' has " + std::to_string(shape.size()) + " dims, GGUF allows 1 to 4");
  if (shape.back() % layout->block_elements != 0)
    invalid("tensor '" + t.name + "' has rows of " + std::to_string(shape.back()) + " elements, not a multiple of " +
            layout->name + "'s block of " + std::to_string(layout->block_elements));
  return static_cast<uint64_t>(t.values.numel() / layout->block_elements) * layout->block_bytes;
}

}  // namespace

namespace {

// The header up to the tensor infos: magic, version, counts and the metadata.
Encoder header_start(const GgufMetadata& metadata, size_t tensors) {
  Encoder header;
  header.put<uint32_t>(0x46554747);  // "GGUF" read as a little-endian uint32
  header.put<uint32_t>(3);
  header.put<uint64_t>(tensors);
  header.put<uint64_t>(metadata.entries().size());
  for (const auto& [key, value] : metadata.entries()) put_value(header, key, value);
  return header;
}

}  // namespace

std::string gguf_metadata_file(const GgufMetadata& metadata) {
  Encoder header = header_start(metadata, 0);
  header.pad_to(gguf_alignment(metadata, ErrorCode::InvalidArgument));
  return header.bytes();
}

void save_gguf(const std::string& path, const GgufMetadata& metadata, const std::vector<GgufTensorToWrite>& tensors) {
  const uint64_t alignment = gguf_alignment(metadata, ErrorCode::InvalidArgument);
  Encoder header = header_start(metadata, tensors.size());
  std::set<std::string> names;
  std::vector<uint64_t> sizes;
  uint64_t offset = 0;
  for (const GgufTensorToWrite& t : tensors) {
    if (!names.insert(t.name).second) invalid("tensor name '" + t.name + "' is repeated");
    sizes.push_back(checked_bytes(t));
    header.put_string(t.name);
    header.put<uint32_t>(static_cast<uint32_t>(t.values.rank()));
    for (size_t d = t.values.rank(); d-- > 0;) header.put<uint64_t>(static_cast<uint64_t>(t.values.dim(d)));
    header.put(static_cast<uint32_t>(t.type));
    header.put(offset);
    offset += (sizes.back() + alignment - 1) / alignment * alignment;
  }
  header.pad_to(alignment);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(header.bytes().data(), static_cast<std::streamsize>(header.bytes().size()));
  try {
    for (size_t i = 0; i < tensors.size(); ++i) {
      std::string data = encode(tensors[i], sizes[i]);
      data.append((alignment - data.size() % alignment) % alignment, '\0');
      out.write(data.data(), static_cast<std::streamsize>(data.size()));
    }
  } catch (const Error&) {
    // A value that cannot be quantized is found only while writing; leave no partial file behind.
    out.close();
    std::filesystem::remove(path);
    throw;
  }
  out.close();
  if (!out) throw Error(ErrorCode::Io, "cannot write '" + path + "'");
}

}  // namespace kiln::llm
