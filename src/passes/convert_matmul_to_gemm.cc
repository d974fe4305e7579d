#include "passes/convert_matmul_to_gemm.h"

#include "ir/graph_edit.h"
#include "passes/match.h"

namespace kiln::passes {
namespace {

// Gemm's C may be any constant that broadcasts to [M, N] without widening it (opset 7 on).
bool fits_as_c(const Tensor& c, const ir::Dim& m, const ir::Dim& n) {
  if (c.rank() > 2) return false;
  const ir::Dim* result[2] = {&m, &n};
  for (size_t i = 0; i < c.rank(); ++i) {
    const int64_t size = c.dim(c.rank() - 1 - i);
    const ir::Dim& d = *result[1 - i];
    if (size != 1 && size != d.size) return false;
  }
  return true;
}

// Whether `operand` is Transpose(x, [1, 0]) read by the MatMul alone, for FoldTransposeIntoGemm to fold.
std::optional<size_t> foldable_transpose(const ir::Graph& g, const std::unordered_map<std::string, size_t>& producers,
                                         const std::string& operand) {
  const auto transpose = sole_transpose_producer(g, producers, operand);
  if (!transpose || transpose->perm != std::vector<int64_t>{1, 0}) return std::nullopt;
  return transpose->node;
}

// The shape of `operand` when it is a 2-D float32 matrix. Its dtype may be recorded on the value
// Gemm reads once FoldTransposeIntoGemm has run (a Transpose's input) alone: inference records shapes only.
std::optional<std::vector<ir::Dim>> float_matrix_shape(const ir::Graph& g,
                                                       const std::unordered_map<std::string, size_t>& producers,
                                                       const std::string& operand) {
  const auto value = g.find_value(operand);
  if (!value || !value->shape || value->shape->size() != 2) return std::nullopt;
  const auto transpose = foldable_transpose(g, producers, operand);
  const auto source = transpose ? g.find_value(g.nodes[*transpose].inputs[0]) : value;
  if (!(value->dtype == DType::Float32 || (source && source->dtype == DType::Float32))) return std::nullopt;
  return value->shape;
}

}  // namespace

int ConvertMatMulToGemm::run(ir::Model& model) const {
  ir::Graph& g = model.graph;
  const int64_t opset = model.opset_imports.count("") ? model.opset("") : 0;
  // From opset 7 Gemm's C broadcasts; from opset 11 it is optional.
  if (opset < 7) return 0;
  const auto producers = g.producers();
  std::vector<size_t> removed;
  int converted = 0;
  for (ir::Node& matmul : g.nodes) {
    if (!is_op(matmul, "MatMul") || matmul.inputs.size() != 2 || matmul.outputs.size() != 1 ||
        matmul.inputs[0] == matmul.inputs[1])
      continue;
    const auto a = float_matrix_shape(g, producers, matmul.inputs[0]);
    const auto b = float_matrix_shape(g, producers, matmul.inputs[1]);
    if (!a || !b) continue;
    const auto add = sole_consumer_of_type(g, matmul.outputs[0], "Add");
    const auto c_name = add ? other_operand(g.nodes[*add], matmul.outputs[0]) : std::nullopt;
    const Tensor* c = c_name ? float_initializer(g, *c_name) : nullptr;
    if (c && fits_as_c(*c, (*a)[0], (*b)[1])) {
      matmul.inputs.push_back(*c_name);
      matmul.outputs[0] = g.nodes[*add].outputs[0];
      removed.push_back(*add);
    } else if (opset < 11 || !(foldable_transpose(g, producers, matmul.inputs[0]) ||
                               foldable_transpose(g, producers, matmul.inputs[1]))) {
      continue;
    }
    matmul.op_type = "Gemm";
    ++converted;
  }
  ir::remove_nodes(g, removed);
  return converted;
}

}  // namespace kiln::passes
