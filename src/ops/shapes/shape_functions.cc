#include "ops/shapes/shape_functions.h"

#include "kiln/error.h"
#include "ops/registry.h"
#include "ops/shapes/shape_context.h"

namespace kiln::ops {
namespace {

const shapes::ShapeTable& shape_table() {
  static const shapes::ShapeTable table = [] {
    shapes::ShapeTable t;
    shapes::add_elementwise_shapes(t);
    shapes::add_linear_algebra_shapes(t);
    shapes::add_window_shapes(t);
    shapes::add_reshaping_shapes(t);
    shapes::add_indexing_shapes(t);
    shapes::add_reduction_shapes(t);
    return t;
  }();
  return table;
}

}  // namespace

bool has_shape_function(const std::string& domain, const std::string& op_type) {
  return shape_table().count({canonical_domain(domain), op_type}) != 0;
}

ir::OutputShapes infer_node_shapes(const ir::ShapeQuery& query) {
  const auto& table = shape_table();
  const auto it = table.find({canonical_domain(query.node.domain), query.node.op_type});
  if (it == table.end()) return {};
  try {
    return it->second(shapes::ShapeContext(query));
  } catch (const Error&) {
    return {};
  }
}

void infer_shapes(ir::Model& model) { ir::infer_shapes(model, infer_node_shapes); }

}  // namespace kiln::ops
