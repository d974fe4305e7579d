// ir::Model <-> the FlatBuffers Model of engine.fbs. Tensor elements are not in the FlatBuffer:
// writing hands each tensor's bytes to a BlobSink, which says where in the file they will lie;
// reading asks a BlobSource for the bytes a Blob names, checked.
#pragma once

#include <functional>
#include <string>

#include "engine/engine_generated.h"
#include "ir/graph.h"

namespace kiln::engine {

// Takes `size` bytes at `data` (which stay valid until the file is written) and returns the Blob
// that will hold them.
using BlobSink = std::function<fb::Blob(const void* data, size_t size)>;
// The bytes a Blob names, `size` of them, checked against the file; `what` names the blob in errors.
using BlobSource = std::function<Tensor(const fb::Blob& blob, DType dtype, const Shape& shape, const std::string& what)>;

flatbuffers::Offset<fb::TensorData> write_tensor(flatbuffers::FlatBufferBuilder& builder, const std::string& name,
                                                 const Tensor& tensor, const BlobSink& sink);
flatbuffers::Offset<fb::Model> write_model(flatbuffers::FlatBufferBuilder& builder, const ir::Model& model,
                                           const BlobSink& sink);

// Error(InvalidModel) naming the field for a missing name, an unknown dtype, a negative dim or an
// unknown attribute kind (the FlatBuffer itself was verified before).
Tensor read_tensor(const fb::TensorData& data, const BlobSource& source, const std::string& what);
ir::Model read_model(const fb::Model& model, const BlobSource& source);

}  // namespace kiln::engine
