// ONNX TensorProto <-> kiln::Tensor. Every size is checked against the data actually present before
// anything is allocated, so a hostile file cannot ask for a huge buffer it does not carry.
#pragma once

#include <string>

#include "kiln/tensor.h"
#include "onnx/onnx_pb.h"

namespace kiln::onnx_io {

// `base_dir` resolves external data locations; `what` names the tensor in error messages
// ("initializer 'conv1.weight'").
Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& base_dir, const std::string& what);
onnx::TensorProto tensor_to_proto(const Tensor& tensor, const std::string& name);

// Reads a serialized TensorProto file (the backend test suite's input_N.pb / output_N.pb).
Tensor read_tensor_file(const std::string& path);

}  // namespace kiln::onnx_io
