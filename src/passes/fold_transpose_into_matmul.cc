#include "passes/fold_transpose_into_matmul.h"

#include "ir/graph_edit.h"
#include "passes/match.h"

namespace kiln::passes {
namespace {

// [0, 1, ..., r - 3, r - 1, r - 2]: the batch axes stay, the matrix is transposed.
bool swaps_last_two_axes(const std::vector<int64_t>& perm) {
  const size_t rank = perm.size();
  if (rank < 2 || perm[rank - 2] != static_cast<int64_t>(rank - 1) || perm[rank - 1] != static_cast<int64_t>(rank - 2))
    return false;
  for (size_t axis = 0; axis + 2 < rank; ++axis)
    if (perm[axis] != static_cast<int64_t>(axis)) return false;
  return true;
}

bool is_float32(const ir::Graph& g, const std::string& value) {
  const auto known = g.find_value(value);
  return known && known->dtype == DType::Float32;
}

}  // namespace

int FoldTransposeIntoMatMul::run(ir::Model& model) const {
  ir::Graph& g = model.graph;
  const auto producers = g.producers();
  std::vector<size_t> folded;
  for (ir::Node& matmul : g.nodes) {
    if (!(is_op(matmul, "MatMul") || is_op(matmul, "FusedMatMul", kKilnDomain)) || matmul.inputs.size() < 2) continue;
    // MatMul(X, X): one Transpose feeding both operands has two uses of one reader.
    if (matmul.inputs[0] == matmul.inputs[1]) continue;
    for (size_t operand = 0; operand < 2; ++operand) {
      const auto transpose = sole_transpose_producer(g, producers, matmul.inputs[operand]);
      if (!transpose || !swaps_last_two_axes(transpose->perm)) continue;
      const std::string& source = g.nodes[transpose->node].inputs[0];
      if (!is_float32(g, source)) continue;
      const char* flag = operand == 0 ? "transA" : "transB";
      matmul.attributes[flag] = int64_t{1} - attribute<int64_t>(matmul, flag).value_or(0);
      matmul.op_type = "FusedMatMul";
      matmul.domain = kKilnDomain;
      matmul.inputs[operand] = source;
      folded.push_back(transpose->node);
    }
  }
  if (folded.empty()) return 0;
  ir::remove_nodes(g, folded);
  import_kiln_domain(model);
  return static_cast<int>(folded.size());
}

}  // namespace kiln::passes
