#include "engine/engine_writer.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/hash.h"
#include "engine/engine_format.h"
#include "engine/model_serializer.h"

namespace kiln::engine {
namespace {

uint64_t align_up(uint64_t n) { return (n + kBlobAlignment - 1) / kBlobAlignment * kBlobAlignment; }

// The blobs in the order they are laid out after the metadata.
class BlobLayout {
 public:
  fb::Blob add(const void* data, size_t size) {
    const fb::Blob blob(next_, size, xxh64(data, size));
    pieces_.push_back({data, size, next_});
    next_ = align_up(next_ + size);
    return blob;
  }
  uint64_t size() const { return next_; }

  void write(std::ofstream& out) const {
    static const char zeros[kBlobAlignment] = {};
    uint64_t at = 0;
    for (const Piece& p : pieces_) {
      out.write(zeros, static_cast<std::streamsize>(p.offset - at));
      out.write(static_cast<const char*>(p.data), static_cast<std::streamsize>(p.size));
      at = p.offset + p.size;
    }
    out.write(zeros, static_cast<std::streamsize>(next_ - at));
  }

 private:
  struct Piece {
    const void* data;
    size_t size;
    uint64_t offset;
  };
  std::vector<Piece> pieces_;
  uint64_t next_ = 0;
};

flatbuffers::Offset<fb::BuildInfo> write_build(flatbuffers::FlatBufferBuilder& b, const BuildInfo& info) {
  std::vector<flatbuffers::Offset<fb::DimOverride>> dims;
  for (const auto& [name, size] : info.dim_overrides) dims.push_back(fb::CreateDimOverride(b, b.CreateString(name), size));
  std::vector<flatbuffers::Offset<flatbuffers::String>> features, passes;
  for (const std::string& f : info.cpu_features) features.push_back(b.CreateString(f));
  for (const std::string& p : info.disabled_passes) passes.push_back(b.CreateString(p));
  return fb::CreateBuildInfo(b, b.CreateString(info.kiln_version), b.CreateString(cpu_level_name(info.cpu_level)),
                             b.CreateVector(features), b.CreateString(info.source_name), info.source_xxh64,
                             info.source_bytes, info.optimization_level, b.CreateVector(passes), b.CreateVector(dims),
                             info.created_unix_seconds, b.CreateString(info.weight_quant), info.weight_group);
}

template <class T>
void check_unique(const std::vector<std::pair<std::string, T>>& entries, const char* what) {
  std::set<std::string> seen;
  for (const auto& [key, value] : entries)
    if (!seen.insert(key).second)
      throw Error(ErrorCode::InvalidArgument, std::string(what) + " '" + key + "' is given twice");
}

}  // namespace

void write_engine(const std::string& path, const EngineContents& contents) {
  BlobLayout blobs;
  const BlobSink sink = [&](const void* data, size_t size) { return blobs.add(data, size); };
  flatbuffers::FlatBufferBuilder b(1 << 16);
  const auto build = write_build(b, contents.build);
  const auto model = contents.model ? write_model(b, *contents.model, sink) : 0;
  check_unique(contents.prepared, "prepared weights");
  check_unique(contents.files, "file");
  check_unique(contents.tensors, "tensor");
  std::vector<flatbuffers::Offset<fb::PreparedBlob>> prepared;
  for (const auto& [key, weights] : contents.prepared) {
    const fb::Blob blob = blobs.add(weights.data(), weights.size());
    prepared.push_back(fb::CreatePreparedBlob(b, b.CreateString(key), &blob));
  }
  std::vector<flatbuffers::Offset<fb::NamedFile>> files;
  for (const auto& [name, text] : contents.files) {
    const fb::Blob blob = blobs.add(text.data(), text.size());
    files.push_back(fb::CreateNamedFile(b, b.CreateString(name), &blob));
  }
  std::vector<flatbuffers::Offset<fb::TensorData>> tensors;
  for (const auto& [name, tensor] : contents.tensors) tensors.push_back(write_tensor(b, name, tensor, sink));
  b.Finish(fb::CreateEngine(b, build, model, b.CreateVector(prepared), b.CreateVector(files), b.CreateVector(tensors)));

  FileHeader header{};
  std::memcpy(header.magic, kEngineMagic, sizeof header.magic);
  header.format_version = kEngineFormatVersion;
  header.header_bytes = sizeof(FileHeader);
  header.metadata_offset = sizeof(FileHeader);
  header.metadata_size = b.GetSize();
  header.metadata_xxh64 = xxh64(b.GetBufferPointer(), b.GetSize());
  header.data_offset = align_up(header.metadata_offset + header.metadata_size);
  header.file_size = header.data_offset + blobs.size();
  header.header_xxh64 = xxh64(&header, offsetof(FileHeader, header_xxh64));

  // Written beside the target and renamed over it, so that a failed build never leaves a
  // truncated engine where a good one was.
  const std::string partial = path + ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(ErrorCode::Io, "cannot write the engine file '" + path + "'");
    out.write(reinterpret_cast<const char*>(&header), sizeof header);
    out.write(reinterpret_cast<const char*>(b.GetBufferPointer()), static_cast<std::streamsize>(b.GetSize()));
    static const char zeros[kBlobAlignment] = {};
    out.write(zeros, static_cast<std::streamsize>(header.data_offset - header.metadata_offset - header.metadata_size));
    blobs.write(out);
    out.close();
    if (!out) {
      std::remove(partial.c_str());
      throw Error(ErrorCode::Io, "cannot write the engine file '" + path + "' (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(partial, path, ec);
  if (ec) {
    std::remove(partial.c_str());
    throw Error(ErrorCode::Io, "cannot write the engine file '" + path + "': " + ec.message());
  }
}

PreparedWeights RecordingWeightStore::get(std::string_view key, size_t bytes, const Pack& pack) {
  PreparedWeights weights = fresh_weight_store().get(key, bytes, pack);
  if (bytes > 0) recorded_.emplace_back(std::string(key), weights);
  return weights;
}

PreparedWeights RecordingWeightStore::view(std::string_view key, size_t bytes,
                                           const std::function<PreparedWeights()>& as_is) {
  PreparedWeights weights = fresh_weight_store().view(key, bytes, as_is);
  if (bytes > 0) recorded_.emplace_back(std::string(key), weights);
  return weights;
}

}  // namespace kiln::engine
