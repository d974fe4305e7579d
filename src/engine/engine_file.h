// Reads engine files (engine_format.h): maps the file, checks its header, checksums, FlatBuffers
// structure and CPU requirements, and hands out its parts as views of the mapping. Any problem is
// an Error(InvalidModel) (NotImplemented for another format version or a CPU that lacks the
// engine's features) saying what is wrong and to rebuild the engine with `kiln build`.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/weight_store.h"
#include "engine/build_info.h"
#include "ir/graph.h"
#include "kiln/tensor.h"

namespace kiln::engine {

// The store an engine's prepared weights come from: it never packs. A key the engine lacks, or
// holds at another size, is an Error(InvalidModel) naming it.
class EngineWeightStore : public WeightStore {
 public:
  // Keys of stored blobs no kernel asked for: a sign the engine does not match this Kiln's kernels.
  virtual std::vector<std::string> unused() const = 0;
};

class EngineFile {
 public:
  static std::shared_ptr<const EngineFile> open(const std::string& path);
  // From bytes in memory, which are copied (once, into aligned memory); `name` is used in errors.
  static std::shared_ptr<const EngineFile> from_bytes(const void* data, size_t size, const std::string& name);
  ~EngineFile();

  const std::string& name() const { return name_; }
  size_t size() const { return size_; }
  const BuildInfo& build() const { return build_; }

  bool has_model() const;
  // The optimized graph, its tensors viewing the file.
  ir::Model model() const;
  // The stored prepared weights, for the kernels that ask for them by key.
  std::unique_ptr<EngineWeightStore> prepared_weights() const;
  // Bytes of every prepared blob.
  size_t prepared_bytes() const;
  // An LLM engine's files and tensors, viewing the file.
  std::map<std::string, std::string_view> files() const;
  std::vector<std::pair<std::string, Tensor>> tensors() const;

 private:
  EngineFile(std::string name, std::shared_ptr<const void> owner, const std::byte* data, size_t size);
  void check();
  const void* metadata() const;

  std::string name_;
  std::shared_ptr<const void> owner_;  // keeps the bytes alive; tensors share it
  const std::byte* data_;
  size_t size_;
  const std::byte* blobs_ = nullptr;  // data section
  size_t blobs_size_ = 0;
  BuildInfo build_;
};

}  // namespace kiln::engine
