// Editing helpers for passes: find consumers, rewire uses, add and remove nodes, make fresh names.
// They keep the graph's single-assignment form; callers re-run Graph::validate() in debug checks.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"

namespace kiln::ir {

// Indices of the nodes reading `value`, in node order.
std::vector<size_t> consumers_of(const Graph& graph, const std::string& value);
bool is_graph_output(const Graph& graph, const std::string& value);
// Makes every reader of `from` (node inputs and graph outputs) read `to` instead.
void replace_uses(Graph& graph, const std::string& from, const std::string& to);
// A value name not yet used in the graph, derived from `base` ("conv1_fused", "conv1_fused_2", ...).
std::string unique_value_name(const Graph& graph, const std::string& base);
// Removes the nodes at `indices` (any order, duplicates allowed); other nodes keep their relative order.
void remove_nodes(Graph& graph, std::vector<size_t> indices);

}  // namespace kiln::ir
