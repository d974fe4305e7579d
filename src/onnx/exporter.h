// ir::Model -> ONNX ModelProto: what `kiln optimize` writes, so that an optimized graph can be
// inspected (Netron) or loaded again. Kiln's fused ops keep their `kiln` domain, which the model
// imports at version 1; weights are written as raw data inside the file.
#pragma once

#include <string>

#include "ir/graph.h"
#include "onnx/onnx_pb.h"

namespace kiln::onnx_io {

onnx::ModelProto model_to_proto(const ir::Model& model);
// Writes the model to `path`; throws Io when it cannot, InvalidArgument when the serialized model
// would exceed protobuf's 2 GiB limit.
void save_model(const ir::Model& model, const std::string& path);

}  // namespace kiln::onnx_io
