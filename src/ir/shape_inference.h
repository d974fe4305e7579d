// The shape inference driver: walks the graph in topological order, asks a per-op shape function
// (supplied by the caller: ir cannot see ops/) for each node's output shapes, and merges them into
// what the graph already knows. Dims only ever get more precise: a static dim stays static, and an
// inferred static dim replaces an unknown or symbolic one. Dtypes are left as the importer set them.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "ir/graph.h"

namespace kiln::ir {

using Dims = std::vector<Dim>;

// What a shape function sees of one node: the shapes of its inputs (nullopt where the input is
// absent or its rank unknown) and the values of those that are constants (initializers or
// Constant nodes; null otherwise), indexed like node.inputs.
struct ShapeQuery {
  const Node& node;
  int64_t opset = 0;
  std::vector<std::optional<Dims>> inputs;
  std::vector<const Tensor*> constants;
};

// One shape per output, nullopt where unknown; fewer entries than outputs leaves the rest unknown.
using OutputShapes = std::vector<std::optional<Dims>>;
using ShapeFunctionLookup = std::function<OutputShapes(const ShapeQuery&)>;

// Infers the shapes of every node output and records them in graph.value_info (or on the graph
// output's own Value where the model annotated it). Nodes of a domain the model imports no opset
// for are skipped. Throws InvalidModel naming the node when an inferred shape contradicts a
// recorded one (another rank, or another size of a static dim).
void infer_shapes(Model& model, const ShapeFunctionLookup& infer);

}  // namespace kiln::ir
