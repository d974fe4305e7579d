#include "passes/fold_shapes.h"

#include "ir/graph_edit.h"
#include "ops/shapes/shape_functions.h"
#include "passes/match.h"

namespace kiln::passes {
namespace {

// The dims that Shape node `shape` reports; nullopt when its input's rank is unknown.
std::optional<std::vector<ir::Dim>> reported_dims(const ir::Model& model, const ir::Node& shape) {
  const auto x = model.graph.find_value(shape.inputs[0]);
  if (!x || !x->shape) return std::nullopt;
  const bool ranged = model.opset("") >= 15;
  const auto [first, last] = ops::shape_range(ranged ? attribute<int64_t>(shape, "start") : std::nullopt,
                                              ranged ? attribute<int64_t>(shape, "end") : std::nullopt, x->shape->size());
  return std::vector<ir::Dim>(x->shape->begin() + static_cast<std::ptrdiff_t>(first),
                              x->shape->begin() + static_cast<std::ptrdiff_t>(last));
}

bool is_shape_op(const ir::Node& node) {
  return is_op(node, "Shape") && node.inputs.size() == 1 && !node.inputs[0].empty() && node.outputs.size() == 1;
}

// Shape(x) with every reported dim static: the int64 tensor of those dims.
std::optional<Tensor> folded_shape(const ir::Model& model, const ir::Node& shape) {
  const auto dims = reported_dims(model, shape);
  if (!dims) return std::nullopt;
  std::vector<int64_t> sizes;
  for (const ir::Dim& d : *dims) {
    if (!d.is_static()) return std::nullopt;
    sizes.push_back(d.size);
  }
  return Tensor::from_vector<int64_t>({static_cast<int64_t>(sizes.size())}, sizes);
}

// Gather(Shape(x), indices) with constant indices that pick static dims alone: those dims, shaped
// like the indices.
std::optional<Tensor> folded_gather(const ir::Model& model, const std::unordered_map<std::string, size_t>& producers,
                                    const ir::Node& gather) {
  if (!is_op(gather, "Gather") || gather.inputs.size() != 2 || gather.outputs.size() != 1) return std::nullopt;
  const auto producer = producers.find(gather.inputs[0]);
  const Tensor* indices = constant_value(model.graph, gather.inputs[1]);
  const int64_t axis = attribute<int64_t>(gather, "axis").value_or(0);
  if (producer == producers.end() || !indices || (axis != 0 && axis != -1) ||
      (indices->dtype() != DType::Int64 && indices->dtype() != DType::Int32))
    return std::nullopt;
  const ir::Node& shape = model.graph.nodes[producer->second];
  const auto dims = is_shape_op(shape) ? reported_dims(model, shape) : std::nullopt;
  if (!dims) return std::nullopt;
  const auto count = static_cast<int64_t>(dims->size());
  std::vector<int64_t> sizes;
  for (int64_t index : indices->to_int64_vector()) {
    if (index < -count || index >= count) return std::nullopt;
    const ir::Dim& d = (*dims)[static_cast<size_t>(index < 0 ? index + count : index)];
    if (!d.is_static()) return std::nullopt;
    sizes.push_back(d.size);
  }
  return Tensor::from_vector<int64_t>(indices->shape(), sizes);
}

}  // namespace

int FoldShapes::run(ir::Model& model) const {
  ir::Graph& g = model.graph;
  const auto producers = g.producers();
  std::vector<size_t> folded;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& node = g.nodes[i];
    if (node.outputs.size() != 1 || ir::is_graph_output(g, node.outputs[0])) continue;
    auto value = is_shape_op(node) ? folded_shape(model, node) : folded_gather(model, producers, node);
    if (!value) continue;
    g.initializers[node.outputs[0]] = std::move(*value);
    folded.push_back(i);
  }
  ir::remove_nodes(g, folded);
  return static_cast<int>(folded.size());
}

}  // namespace kiln::passes
