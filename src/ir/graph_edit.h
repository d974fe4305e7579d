// Editing helpers for passes: find consumers, rewire uses, add and remove nodes, make fresh names.
// They keep the graph's single-assignment form; callers re-run Graph::validate() in debug checks.
#pragma once

#include <map>
#include <string>
#include <unordered_set>
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
// Makes the readers of `value` read `source` instead, so that `value`'s producer can be dropped
// as a no-op. A graph output keeps its name (it is the model's API): `source`'s producer is then
// renamed to write `value`, and its readers follow. Returns false, changing nothing, when that is
// impossible: `source` is a graph input, an initializer or a graph output itself.
bool bypass(Graph& graph, const std::string& value, const std::string& source);
// Every value name something reads: node inputs, graph outputs, and names the nodes of subgraphs
// (If, Loop, Scan bodies) read from the enclosing graph.
std::unordered_set<std::string> read_values(const Graph& graph);
// Gives every dim named by a key of `sizes` (the graph's inputs', outputs' and value_info's) that
// size: ONNX Runtime's free dimension overrides. The dims keep their names. Throws
// InvalidArgument for a size below 1 or a name no graph input dim has.
void set_symbolic_dims(Graph& graph, const std::map<std::string, int64_t>& sizes);
// Removes the nodes at `indices` (any order, duplicates allowed); other nodes keep their relative order.
void remove_nodes(Graph& graph, std::vector<size_t> indices);

}  // namespace kiln::ir
