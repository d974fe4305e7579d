#include "engine/engine_file.h"

#include <cstring>
#include <map>
#include <mutex>
#include <set>

#include "core/aligned_alloc.h"
#include "core/hash.h"
#include "core/mapped_file.h"
#include "engine/engine_format.h"
#include "engine/model_serializer.h"

namespace kiln::engine {
namespace {

constexpr const char* kRebuild = "; rebuild it with `kiln build`";

[[noreturn]] void bad(const std::string& name, const std::string& message) {
  throw Error(ErrorCode::InvalidModel, "engine file '" + name + "': " + message + kRebuild);
}

std::string str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

// What a Blob names, checked: inside the data section, aligned, and matching its checksum.
class BlobReader {
 public:
  BlobReader(std::string name, const std::byte* blobs, size_t size, std::shared_ptr<const void> owner)
      : name_(std::move(name)), blobs_(blobs), size_(size), owner_(std::move(owner)) {}

  const std::byte* bytes(const fb::Blob& blob, const std::string& what) const {
    if (blob.offset() % kBlobAlignment != 0) bad(name_, what + " is not 64-byte aligned in the file");
    if (blob.offset() > size_ || blob.size() > size_ - blob.offset())
      bad(name_, what + " lies past the end of the file (truncated?)");
    const std::byte* data = blobs_ + blob.offset();
    if (xxh64(data, blob.size()) != blob.xxh64()) bad(name_, what + " is corrupted (its checksum does not match)");
    return data;
  }

  Tensor tensor(const fb::Blob& blob, DType dtype, const Shape& shape, const std::string& what) const {
    const size_t nbytes = Tensor::checked_nbytes(dtype, shape);
    if (blob.size() != nbytes)
      bad(name_, what + " holds " + std::to_string(blob.size()) + " bytes for " + dtype_name(dtype) + " " +
                     shape_to_string(shape) + " (" + std::to_string(nbytes) + ")");
    const std::byte* data = bytes(blob, what);
    // The bytes are never written through this view: kernels do not write their inputs, and the
    // runtime hands only its own buffers out for reuse.
    void* view = const_cast<std::byte*>(data);
    return Tensor::wrap(dtype, shape, view, std::shared_ptr<void>(owner_, view));
  }

  const std::shared_ptr<const void>& owner() const { return owner_; }

 private:
  std::string name_;
  const std::byte* blobs_;
  size_t size_;
  std::shared_ptr<const void> owner_;
};

class StoredWeights final : public EngineWeightStore {
 public:
  StoredWeights(std::string name, std::map<std::string, const fb::Blob*> blobs, BlobReader reader)
      : name_(std::move(name)), blobs_(std::move(blobs)), reader_(std::move(reader)) {}

  PreparedWeights view(std::string_view key, size_t bytes, const std::function<PreparedWeights()>&) override {
    return get(key, bytes, {});
  }

  PreparedWeights get(std::string_view key, size_t bytes, const Pack&) override {
    if (bytes == 0) return {};
    const std::string k(key);
    auto it = blobs_.find(k);
    if (it == blobs_.end()) bad(name_, "holds no prepared weights '" + k + "' (built by another Kiln?)");
    if (it->second->size() != bytes)
      bad(name_, "prepared weights '" + k + "' are " + std::to_string(it->second->size()) + " bytes, but the kernel needs " +
                     std::to_string(bytes));
    const std::byte* data = reader_.bytes(*it->second, "prepared weights '" + k + "'");
    std::lock_guard lock(mutex_);
    used_.insert(k);
    return {data, bytes, reader_.owner()};
  }

  std::vector<std::string> unused() const override {
    std::lock_guard lock(mutex_);
    std::vector<std::string> keys;
    for (const auto& [key, blob] : blobs_)
      if (!used_.count(key)) keys.push_back(key);
    return keys;
  }

 private:
  std::string name_;
  std::map<std::string, const fb::Blob*> blobs_;
  BlobReader reader_;
  mutable std::mutex mutex_;
  std::set<std::string> used_;
};

}  // namespace

EngineFile::EngineFile(std::string name, std::shared_ptr<const void> owner, const std::byte* data, size_t size)
    : name_(std::move(name)), owner_(std::move(owner)), data_(data), size_(size) {
  check();
}

EngineFile::~EngineFile() = default;

std::shared_ptr<const EngineFile> EngineFile::open(const std::string& path) {
  const std::shared_ptr<const MappedFile> file = MappedFile::open(path);
  return std::shared_ptr<const EngineFile>(new EngineFile(path, file, file->data(), file->size()));
}

std::shared_ptr<const EngineFile> EngineFile::from_bytes(const void* data, size_t size, const std::string& name) {
  std::shared_ptr<std::byte> copy(static_cast<std::byte*>(aligned_allocate(size)),
                                  [size](std::byte* p) { aligned_free(p, size); });
  if (size) std::memcpy(copy.get(), data, size);
  return std::shared_ptr<const EngineFile>(new EngineFile(name, copy, copy.get(), size));
}

void EngineFile::check() {
  FileHeader header;
  if (size_ < sizeof header)
    bad(name_, "is truncated: " + std::to_string(size_) + " bytes, shorter than its 64-byte header");
  std::memcpy(&header, data_, sizeof header);
  if (!starts_like_engine(header.magic, sizeof header.magic)) bad(name_, "is not a Kiln engine file (no KILNENG magic)");
  if (xxh64(&header, offsetof(FileHeader, header_xxh64)) != header.header_xxh64)
    bad(name_, "has a corrupted header (its checksum does not match)");
  if (header.format_version != kEngineFormatVersion)
    throw Error(ErrorCode::NotImplemented, "engine file '" + name_ + "' has format version " +
                                               std::to_string(header.format_version) + "; this Kiln reads version " +
                                               std::to_string(kEngineFormatVersion) + kRebuild);
  if (header.file_size != size_)
    bad(name_, "is " + std::to_string(size_) + " bytes, but its header says " + std::to_string(header.file_size) +
                   (size_ < header.file_size ? " (truncated)" : ""));
  if (header.header_bytes != sizeof header || header.metadata_offset != sizeof header ||
      header.metadata_size > size_ - header.metadata_offset || header.data_offset % kBlobAlignment != 0 ||
      header.data_offset < header.metadata_offset + header.metadata_size || header.data_offset > size_ ||
      header.metadata_size >= FLATBUFFERS_MAX_BUFFER_SIZE)
    bad(name_, "has a header whose sections do not fit the file");
  const std::byte* metadata = data_ + header.metadata_offset;
  if (xxh64(metadata, header.metadata_size) != header.metadata_xxh64)
    bad(name_, "has corrupted metadata (its checksum does not match)");
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(metadata), header.metadata_size);
  if (!fb::VerifyEngineBuffer(verifier)) bad(name_, "has malformed metadata (FlatBuffers verification failed)");
  blobs_ = data_ + header.data_offset;
  blobs_size_ = size_ - header.data_offset;

  const fb::Engine& engine = *fb::GetEngine(metadata);
  const fb::BuildInfo* b = engine.build();
  if (!b) bad(name_, "has no build information");
  build_.kiln_version = str(b->kiln_version());
  build_.cpu_level = parse_cpu_level(str(b->cpu_level()), "the engine's CPU level");
  if (b->cpu_features())
    for (const flatbuffers::String* f : *b->cpu_features()) build_.cpu_features.push_back(f->str());
  build_.source_name = str(b->source_name());
  build_.source_xxh64 = b->source_xxh64();
  build_.source_bytes = b->source_bytes();
  build_.optimization_level = b->optimization_level();
  if (b->disabled_passes())
    for (const flatbuffers::String* p : *b->disabled_passes()) build_.disabled_passes.push_back(p->str());
  if (b->dim_overrides())
    for (const fb::DimOverride* d : *b->dim_overrides()) build_.dim_overrides[str(d->name())] = d->size();
  build_.created_unix_seconds = b->created_unix_seconds();
  std::string missing;
  for (const std::string& f : build_.cpu_features)
    if (!cpu_has_feature(f)) missing += (missing.empty() ? "" : ", ") + f;
  if (!missing.empty())
    throw Error(ErrorCode::NotImplemented, "engine file '" + name_ + "' was built for CPU level " +
                                               cpu_level_name(build_.cpu_level) + " and needs " + missing +
                                               ", which this CPU lacks; rebuild it on this machine with `kiln build`, "
                                               "or elsewhere with `kiln build --cpu-level " +
                                               cpu_level_name(detected_cpu_level()) + "`");
  check_cpu_level_supported(build_.cpu_level);
}

const void* EngineFile::metadata() const { return data_ + sizeof(FileHeader); }

bool EngineFile::has_model() const { return fb::GetEngine(metadata())->model() != nullptr; }

ir::Model EngineFile::model() const {
  const fb::Model* m = fb::GetEngine(metadata())->model();
  if (!m) bad(name_, "holds no ONNX model (an LLM engine? load it with the LLM commands)");
  const BlobReader reader(name_, blobs_, blobs_size_, owner_);
  try {
    return read_model(*m, [&](const fb::Blob& blob, DType dtype, const Shape& shape, const std::string& what) {
      return reader.tensor(blob, dtype, shape, what);
    });
  } catch (const Error& e) {
    if (std::string(e.what()).find(name_) != std::string::npos) throw;
    throw Error(e.code(), "engine file '" + name_ + "': " + e.what() + kRebuild);
  }
}

std::unique_ptr<EngineWeightStore> EngineFile::prepared_weights() const {
  std::map<std::string, const fb::Blob*> blobs;
  if (const auto* prepared = fb::GetEngine(metadata())->prepared())
    for (const fb::PreparedBlob* p : *prepared) {
      if (!p->data()) bad(name_, "has prepared weights '" + str(p->key()) + "' without data");
      if (!blobs.emplace(str(p->key()), p->data()).second)
        bad(name_, "holds prepared weights '" + str(p->key()) + "' twice");
    }
  return std::make_unique<StoredWeights>(name_, std::move(blobs), BlobReader(name_, blobs_, blobs_size_, owner_));
}

size_t EngineFile::prepared_bytes() const {
  size_t bytes = 0;
  if (const auto* prepared = fb::GetEngine(metadata())->prepared())
    for (const fb::PreparedBlob* p : *prepared)
      if (p->data()) bytes += p->data()->size();
  return bytes;
}

std::map<std::string, std::string_view> EngineFile::files() const {
  std::map<std::string, std::string_view> out;
  const BlobReader reader(name_, blobs_, blobs_size_, owner_);
  if (const auto* files = fb::GetEngine(metadata())->files())
    for (const fb::NamedFile* f : *files) {
      const std::string name = str(f->name());
      if (!f->data()) bad(name_, "has file '" + name + "' without data");
      const std::byte* bytes = reader.bytes(*f->data(), "file '" + name + "'");
      if (!out.emplace(name, std::string_view(reinterpret_cast<const char*>(bytes), f->data()->size())).second)
        bad(name_, "holds file '" + name + "' twice");
    }
  return out;
}

std::vector<std::pair<std::string, Tensor>> EngineFile::tensors() const {
  std::vector<std::pair<std::string, Tensor>> out;
  const BlobReader reader(name_, blobs_, blobs_size_, owner_);
  const BlobSource source = [&](const fb::Blob& blob, DType dtype, const Shape& shape, const std::string& what) {
    return reader.tensor(blob, dtype, shape, what);
  };
  if (const auto* tensors = fb::GetEngine(metadata())->tensors())
    for (const fb::TensorData* t : *tensors) {
      const std::string name = str(t->name());
      out.emplace_back(name, read_tensor(*t, source, "tensor '" + name + "'"));
    }
  return out;
}

}  // namespace kiln::engine
