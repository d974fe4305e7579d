// Per-op output shapes for ir::infer_shapes: the ops layer's ShapeFunctionLookup.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "ir/shape_inference.h"

namespace kiln::ops {

// The node's output shapes; all unknown for an op without a shape function, or one whose
// function rejects the node (its kernel then reports why).
ir::OutputShapes infer_node_shapes(const ir::ShapeQuery& query);
bool has_shape_function(const std::string& domain, const std::string& op_type);

// The dims [first, last) of a rank-`rank` input that Shape reports: its start and end attributes
// (opset 15; absent: the whole shape), negative ones counted from the back, clamped to the rank.
std::pair<size_t, size_t> shape_range(std::optional<int64_t> start, std::optional<int64_t> end, size_t rank);

// ir::infer_shapes with Kiln's shape functions.
void infer_shapes(ir::Model& model);

}  // namespace kiln::ops
