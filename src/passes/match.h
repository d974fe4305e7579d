// Small matching helpers shared by the fusion passes.
#pragma once

#include <optional>
#include <string>

#include "ir/graph.h"

namespace kiln::passes {

// The one node that reads `value`, when exactly one node does and it is not a graph output
// (a fused-away value must not be observable).
std::optional<size_t> sole_consumer(const ir::Graph& graph, const std::string& value);

// The node's attribute `name` when present with type T; nullopt otherwise.
template <class T>
std::optional<T> attribute(const ir::Node& node, const char* name) {
  const auto it = node.attributes.find(name);
  if (it == node.attributes.end()) return std::nullopt;
  const T* value = std::get_if<T>(&it->second);
  return value ? std::optional<T>(*value) : std::nullopt;
}

bool is_op(const ir::Node& node, const char* op_type, const char* domain = "");

// Ops whose outputs differ from run to run: never computed ahead nor merged.
bool is_random(const ir::Node& node);
bool has_subgraph(const ir::Node& node);
// Same dtype, shape and bytes.
bool same_tensor(const Tensor& a, const Tensor& b);
// The initializer `name` when it is a float32 tensor; null otherwise.
const Tensor* float_initializer(const ir::Graph& graph, const std::string& name);

// The value of `name` when it is known before any run: an initializer, or the `value` of a
// Constant node. Null otherwise.
const Tensor* constant_value(const ir::Graph& graph, const std::string& name);

}  // namespace kiln::passes
