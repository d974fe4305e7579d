// Small matching helpers shared by the fusion passes.
#pragma once

#include <optional>
#include <string>

#include "ir/graph.h"

namespace kiln::passes {

// The one node that reads `value`, when exactly one node does and it is not a graph output
// (a fused-away value must not be observable).
std::optional<size_t> sole_consumer(const ir::Graph& graph, const std::string& value);

bool is_op(const ir::Node& node, const char* op_type, const char* domain = "");

// The value of `name` when it is known before any run: an initializer, or the `value` of a
// Constant node. Null otherwise.
const Tensor* constant_value(const ir::Graph& graph, const std::string& name);

}  // namespace kiln::passes
