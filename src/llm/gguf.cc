#include "llm/gguf.h"

#include <algorithm>
#include <cstring>

#include "core/mapped_file.h"
#include "llm/ggml_blocks.h"
#include "llm/gguf_format.h"

namespace kiln::llm {
namespace {

// The fewest bytes a key/value can take (key length, value type, a one-byte value) and a tensor
// info (name length, n_dims, one dim, type, offset): what bounds the counts a header may claim.
constexpr uint64_t kMinKeyValueBytes = 8 + 4 + 1;
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;
// Arrays of arrays deeper than this are no model's metadata, and each level costs a stack frame.
constexpr int kMaxArrayDepth = 8;
constexpr uint32_t kMaxDims = 4;
// Beyond this element count no file holds the bytes, and byte counts stay clear of overflow.
constexpr uint64_t kMaxElements = uint64_t{1} << 60;

[[noreturn]] void malformed(const std::string& source, const std::string& what) {
  throw Error(ErrorCode::InvalidModel, source + ": not a valid GGUF file: " + what);
}

template <class T>
T load(const std::byte* p) {
  T value;
  std::memcpy(&value, p, sizeof value);
  return value;
}

// Reads the header and metadata front to back; every read checks the bytes left first.
class Reader {
 public:
  Reader(const std::byte* data, size_t size, const std::string& source) : data_(data), size_(size), source_(source) {}

  size_t position() const { return position_; }
  uint64_t left() const { return size_ - position_; }

  const std::byte* take(uint64_t bytes, const std::string& what) {
    if (bytes > left())
      malformed(source_, what + " runs past the end of the file (" + std::to_string(bytes) + " bytes at byte " +
                             std::to_string(position_) + " of " + std::to_string(size_) + ")");
    const std::byte* p = data_ + position_;
    position_ += bytes;
    return p;
  }
  template <class T>
  T number(const std::string& what) {
    return load<T>(take(sizeof(T), what));
  }
  std::string string(const std::string& what) {
    const auto length = number<uint64_t>("the length of " + what);
    if (length > left())
      malformed(source_, what + " of " + std::to_string(length) + " bytes runs past the end of the file (" +
                             std::to_string(left()) + " bytes left)");
    const auto* p = reinterpret_cast<const char*>(take(length, what));
    return std::string(p, length);
  }
  // `role`: "value type" or "item type".
  GgufType value_type(const std::string& what, const std::string& role) {
    const auto type = number<uint32_t>("the " + role + " of " + what);
    if (!gguf_type_name(static_cast<GgufType>(type)))
      malformed(source_, what + " has unknown " + role + " " + std::to_string(type));
    return static_cast<GgufType>(type);
  }
  const std::string& source() const { return source_; }

 private:
  const std::byte* data_;
  size_t size_;
  size_t position_ = 0;
  const std::string& source_;
};

void read_items(Reader& r, GgufValue& v, uint64_t count, const std::string& what, int depth);

void read_item(Reader& r, GgufValue& v, const std::string& what, int depth) {
  switch (v.item_type) {
    case GgufType::UInt8: v.uints.push_back(r.number<uint8_t>(what)); break;
    case GgufType::UInt16: v.uints.push_back(r.number<uint16_t>(what)); break;
    case GgufType::UInt32: v.uints.push_back(r.number<uint32_t>(what)); break;
    case GgufType::UInt64: v.uints.push_back(r.number<uint64_t>(what)); break;
    case GgufType::Int8: v.ints.push_back(r.number<int8_t>(what)); break;
    case GgufType::Int16: v.ints.push_back(r.number<int16_t>(what)); break;
    case GgufType::Int32: v.ints.push_back(r.number<int32_t>(what)); break;
    case GgufType::Int64: v.ints.push_back(r.number<int64_t>(what)); break;
    case GgufType::Float32: v.floats.push_back(r.number<float>(what)); break;
    case GgufType::Float64: v.floats.push_back(r.number<double>(what)); break;
    case GgufType::Bool: {
      const auto b = r.number<uint8_t>(what);
      if (b > 1) malformed(r.source(), what + " is a Bool of value " + std::to_string(b) + ", not 0 or 1");
      v.uints.push_back(b);
      break;
    }
    case GgufType::String: v.strings.push_back(r.string(what)); break;
    case GgufType::Array: {
      if (depth >= kMaxArrayDepth)
        malformed(r.source(), what + " nests arrays deeper than " + std::to_string(kMaxArrayDepth));
      GgufValue item;
      item.type = GgufType::Array;
      item.item_type = r.value_type(what, "item type");
      read_items(r, item, r.number<uint64_t>("the length of an array in " + what), what, depth + 1);
      v.arrays.push_back(std::move(item));
      break;
    }
  }
}

void read_items(Reader& r, GgufValue& v, uint64_t count, const std::string& what, int depth) {
  // Strings take at least their length, arrays their item type and length.
  const size_t scalar = gguf_scalar_bytes(v.item_type);
  const uint64_t least = scalar ? scalar : v.item_type == GgufType::String ? 8 : 12;
  if (count > r.left() / least)
    malformed(r.source(), what + " claims " + std::to_string(count) + " items of " + gguf_type_name(v.item_type) +
                              ", more than the " + std::to_string(r.left()) + " bytes left can hold");
  for (uint64_t i = 0; i < count; ++i) read_item(r, v, what, depth);
}

GgufValue read_value(Reader& r, const std::string& key) {
  const std::string what = "metadata key '" + key + "'";
  GgufValue v;
  v.type = r.value_type(what, "value type");
  if (v.is_array()) {
    v.item_type = r.value_type(what, "item type");
    read_items(r, v, r.number<uint64_t>("the array length of " + what), what, 1);
  } else {
    v.item_type = v.type;
    read_item(r, v, what, 0);
  }
  return v;
}

void read_header(Reader& r, uint32_t& version, uint64_t& tensor_count, uint64_t& kv_count) {
  const std::string& source = r.source();
  if (r.left() < 4 || std::memcmp(r.take(4, "the magic"), "GGUF", 4) != 0)
    malformed(source, "it does not start with the magic \"GGUF\"");
  version = r.number<uint32_t>("the version");
  if (version == 1)
    throw Error(ErrorCode::NotImplemented, source + ": GGUF version 1 is not supported (Kiln reads versions 2 and 3); "
                                                    "convert the model again with a current llama.cpp");
  // A big-endian file (GGUF v3 allows them) stores the version's bytes the other way round.
  const uint32_t swapped = __builtin_bswap32(version);
  if (swapped == 2 || swapped == 3)
    throw Error(ErrorCode::NotImplemented, source + ": the file is big-endian GGUF; Kiln reads little-endian files only");
  if (version != 2 && version != 3) malformed(source, "unknown GGUF version " + std::to_string(version));
  tensor_count = r.number<uint64_t>("the tensor count");
  kv_count = r.number<uint64_t>("the key/value count");
  const uint64_t left = r.left();
  if (kv_count > left / kMinKeyValueBytes || tensor_count > left / kMinTensorInfoBytes ||
      kv_count * kMinKeyValueBytes + tensor_count * kMinTensorInfoBytes > left)
    malformed(source, std::to_string(kv_count) + " key/values and " + std::to_string(tensor_count) +
                          " tensors cannot fit in the " + std::to_string(left) + " bytes after the header");
}

GgufTensorInfo read_tensor_info(Reader& r, size_t index, uint64_t alignment) {
  const std::string& source = r.source();
  GgufTensorInfo info;
  info.name = r.string("the name of tensor " + std::to_string(index));
  const std::string what = "tensor '" + info.name + "'";
  const auto n_dims = r.number<uint32_t>("the dim count of " + what);
  if (n_dims < 1 || n_dims > kMaxDims)
    malformed(source, what + " has " + std::to_string(n_dims) + " dims, GGUF allows 1 to " + std::to_string(kMaxDims));
  uint64_t elements = 1;
  for (uint32_t i = 0; i < n_dims; ++i) {
    const auto dim = r.number<uint64_t>("the dims of " + what);
    if (dim > kMaxElements || (dim != 0 && elements > kMaxElements / dim))
      malformed(source, what + " has more elements than any file holds");
    elements *= dim;
    // GGUF lists ne[0], the fastest-varying dim, first; Kiln's shapes end with it.
    info.shape.insert(info.shape.begin(), static_cast<int64_t>(dim));
  }
  const auto type = r.number<uint32_t>("the type of " + what);
  const GgmlLayout* layout = ggml_layout(type);
  if (!layout) {
    if (const char* name = ggml_any_type_name(type))
      throw Error(ErrorCode::NotImplemented, source + ": " + what + " has ggml type " + name +
                                                 ", which Kiln does not read (F32, F16, BF16, Q8_0, Q4_0)");
    malformed(source, what + " has unknown ggml type " + std::to_string(type));
  }
  info.type = layout->type;
  const auto row = static_cast<uint64_t>(info.shape.back());
  if (row % static_cast<uint64_t>(layout->block_elements) != 0)
    malformed(source, what + " has rows of " + std::to_string(row) + " elements, not a multiple of " + layout->name +
                          "'s block of " + std::to_string(layout->block_elements));
  info.bytes = elements / static_cast<uint64_t>(layout->block_elements) * layout->block_bytes;
  info.offset = r.number<uint64_t>("the offset of " + what);
  if (info.offset % alignment != 0)
    malformed(source, what + " starts at offset " + std::to_string(info.offset) +
                          ", not a multiple of the alignment " + std::to_string(alignment));
  return info;
}

// Each tensor inside the data section, and none sharing a byte with another (GGUF allows gaps).
void check_placement(const std::string& source, const std::vector<GgufTensorInfo>& tensors, uint64_t data_bytes) {
  std::vector<const GgufTensorInfo*> by_offset;
  for (const GgufTensorInfo& t : tensors) {
    if (t.offset > data_bytes || t.bytes > data_bytes - t.offset)
      malformed(source, "tensor '" + t.name + "' (" + std::to_string(t.bytes) + " bytes at offset " +
                            std::to_string(t.offset) + ") runs past the end of the " + std::to_string(data_bytes) +
                            " bytes of data");
    if (t.bytes > 0) by_offset.push_back(&t);
  }
  std::sort(by_offset.begin(), by_offset.end(), [](const auto* a, const auto* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const GgufTensorInfo& before = *by_offset[i - 1];
    if (by_offset[i]->offset < before.offset + before.bytes)
      malformed(source, "tensors '" + before.name + "' and '" + by_offset[i]->name + "' overlap");
  }
}

template <class Block>
void dequantize_blocks(const std::byte* src, int64_t elements, float* out) {
  for (int64_t i = 0; i < elements / Block::kElements; ++i) {
    // A copy, because the file's alignment may leave a block unaligned for its scale.
    const auto block = load<Block>(src + static_cast<size_t>(i) * sizeof(Block));
    dequantize_block(block, out + i * Block::kElements);
  }
}

template <class Half>
void widen(const std::byte* src, int64_t elements, float* out) {
  for (int64_t i = 0; i < elements; ++i) out[i] = to_float(Half{load<uint16_t>(src + 2 * i)});
}

}  // namespace

GgufFile GgufFile::open(const std::string& path) {
  std::shared_ptr<const MappedFile> file = MappedFile::open(path);
  const std::byte* data = file->data();
  const size_t size = file->size();
  return parse(std::move(file), data, size, path);
}

GgufFile GgufFile::parse(std::shared_ptr<const void> owner, const std::byte* data, size_t size,
                         const std::string& source) {
  GgufFile file;
  file.owner_ = std::move(owner);
  file.source_ = source;
  file.metadata_ = GgufMetadata(source);
  Reader r(data, size, file.source_);
  uint64_t tensor_count = 0, kv_count = 0;
  read_header(r, file.version_, tensor_count, kv_count);
  for (uint64_t i = 0; i < kv_count; ++i) {
    std::string key = r.string("the key of key/value " + std::to_string(i));
    if (file.metadata_.find(key)) malformed(source, "metadata key '" + key + "' is repeated");
    GgufValue value = read_value(r, key);
    file.metadata_.add(key, std::move(value));
  }
  file.alignment_ = gguf_alignment(file.metadata_, ErrorCode::InvalidModel);
  file.tensors_.reserve(tensor_count);
  for (uint64_t i = 0; i < tensor_count; ++i) {
    GgufTensorInfo info = read_tensor_info(r, i, file.alignment_);
    if (!file.index_.emplace(info.name, i).second) malformed(source, "tensor '" + info.name + "' is listed twice");
    file.tensors_.push_back(std::move(info));
  }
  // A file without tensors (a vocabulary-only GGUF) may end before the padding.
  const uint64_t data_start = std::min<uint64_t>(size, (r.position() + file.alignment_ - 1) / file.alignment_ * file.alignment_);
  check_placement(source, file.tensors_, size - data_start);
  file.data_section_ = data + data_start;
  return file;
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const GgufTensorInfo& GgufFile::info(const std::string& name) const {
  const GgufTensorInfo* t = find_tensor(name);
  if (!t) throw Error(ErrorCode::InvalidArgument, source_ + ": no tensor named '" + name + "'");
  return *t;
}

std::span<const std::byte> GgufFile::raw(const std::string& name) const {
  const GgufTensorInfo& t = info(name);
  return {data_section_ + t.offset, static_cast<size_t>(t.bytes)};
}

Tensor GgufFile::view(const GgufTensorInfo& t, DType dtype) const {
  const std::byte* src = data_section_ + t.offset;
  if (reinterpret_cast<uintptr_t>(src) % dtype_size(dtype) != 0) return {};
  // The mapping is private and writable (core/mapped_file.h), so a view may be written.
  return Tensor::wrap(dtype, t.shape, const_cast<std::byte*>(src), std::const_pointer_cast<void>(owner_));
}

DType gguf_dense_dtype(GgmlType type) {
  switch (type) {
    case GgmlType::F16: return DType::Float16;
    case GgmlType::BF16: return DType::BFloat16;
    default: return DType::Float32;
  }
}

Tensor GgufFile::dense(const std::string& name) const {
  const GgufTensorInfo& t = info(name);
  if (t.type != GgmlType::F16 && t.type != GgmlType::BF16) return to_float32(name);
  const DType dtype = gguf_dense_dtype(t.type);
  if (Tensor v = view(t, dtype); v.defined()) return v;
  Tensor copy(dtype, t.shape);
  std::memcpy(copy.raw(), data_section_ + t.offset, t.bytes);
  return copy;
}

Tensor GgufFile::to_float32(const std::string& name) const {
  const GgufTensorInfo& t = info(name);
  const std::byte* src = data_section_ + t.offset;
  if (t.type == GgmlType::F32)
    if (Tensor v = view(t, DType::Float32); v.defined()) return v;
  Tensor out(DType::Float32, t.shape);
  float* values = out.data<float>();
  switch (t.type) {
    case GgmlType::F32: std::memcpy(values, src, t.bytes); break;
    case GgmlType::F16: widen<Float16>(src, out.numel(), values); break;
    case GgmlType::BF16: widen<BFloat16>(src, out.numel(), values); break;
    case GgmlType::Q8_0: dequantize_blocks<BlockQ8_0>(src, out.numel(), values); break;
    case GgmlType::Q4_0: dequantize_blocks<BlockQ4_0>(src, out.numel(), values); break;
  }
  return out;
}

}  // namespace kiln::llm
