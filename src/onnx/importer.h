// ONNX ModelProto -> ir::Model. Validates the graph, then infers the dtypes of the values the model
// leaves unannotated through ONNX's per-op type inference (type_inference.h). Any problem becomes a
// kiln::Error naming the node, the op and the value; a malformed file never crashes the importer.
#pragma once

#include <string>

#include "ir/graph.h"

namespace kiln::onnx_io {

// ONNX opsets of the default domain Kiln accepts; newer ones were not checked against and are refused.
inline constexpr int64_t kMinOpset = 1;
inline constexpr int64_t kMaxOpset = 18;

ir::Model load_model(const std::string& path);
// `base_dir` resolves external data; empty when the model has none.
ir::Model load_model_from_bytes(const void* data, size_t size, const std::string& base_dir);

}  // namespace kiln::onnx_io
