// Writes engine files (engine_format.h). What goes in is plain data; the writer lays the blobs
// out, checksums them, and replaces `path` only once the whole file is written.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/weight_store.h"
#include "engine/build_info.h"
#include "ir/graph.h"
#include "kiln/tensor.h"

namespace kiln::engine {

struct EngineContents {
  BuildInfo build;
  // An ONNX engine's optimized graph; initializers whose elements were freed (Tensor::raw() null:
  // their kernels prepared them) are stored as dtype and shape only.
  const ir::Model* model = nullptr;
  std::vector<std::pair<std::string, PreparedWeights>> prepared;  // by WeightStore key
  std::vector<std::pair<std::string, std::string>> files;         // name, contents
  std::vector<std::pair<std::string, Tensor>> tensors;
};

// Error(Io) naming the path when it cannot be written; Error(InvalidArgument) for a key given twice.
void write_engine(const std::string& path, const EngineContents& contents);

// A WeightStore that packs into fresh memory and remembers what it packed, for write_engine.
class RecordingWeightStore final : public WeightStore {
 public:
  PreparedWeights get(std::string_view key, size_t bytes, const Pack& pack) override;
  PreparedWeights view(std::string_view key, size_t bytes, const std::function<PreparedWeights()>& as_is) override;
  const std::vector<std::pair<std::string, PreparedWeights>>& recorded() const { return recorded_; }

 private:
  std::vector<std::pair<std::string, PreparedWeights>> recorded_;
};

}  // namespace kiln::engine
