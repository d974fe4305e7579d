// Dtypes of the values a model leaves unannotated, from ONNX's per-op type inference functions.
//
// Kiln drives those functions node by node instead of calling onnx::shape_inference::InferShapes,
// because ONNX 1.12's functions trust their input and crash (null or out-of-range reads, division
// by zero) on hostile models: an input of unknown type, a rank the op does not allow, an attribute
// out of range, a node with too few outputs. A function therefore only sees a node that passed its
// schema's arity and attribute check and whose inputs all have known element types; those types
// carry no shape and no constant data, which is what the crashing code paths read. Nodes with
// subgraphs are skipped, since ONNX would infer the subgraph with its own unguarded driver; an op
// defined by a function body is inferred through that body, whose nodes are ONNX's own.
// The price: intermediate shapes are not inferred, only dtypes (what kernel selection needs).
#pragma once

#include "ir/graph.h"
#include "onnx/onnx_pb.h"

namespace kiln::onnx_io {

// `model.graph` is `proto` imported and validated, its nodes in the same order. Adds the inferred
// dtype of every node output that has none yet to its value_info; a node ONNX cannot infer is left
// alone (its kernel checks dtypes at run time).
void infer_dtypes(onnx::GraphProto& proto, ir::Model& model);

}  // namespace kiln::onnx_io
