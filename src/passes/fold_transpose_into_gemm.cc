#include "passes/fold_transpose_into_gemm.h"

#include "ir/graph_edit.h"
#include "passes/match.h"

namespace kiln::passes {

int FoldTransposeIntoGemm::run(ir::Model& model) const {
  ir::Graph& g = model.graph;
  const auto producers = g.producers();
  std::vector<size_t> folded;
  for (ir::Node& gemm : g.nodes) {
    if (!is_op(gemm, "Gemm") || gemm.inputs.size() < 2) continue;
    // Gemm(X, X): one Transpose feeding both operands has two uses of one reader.
    if (gemm.inputs[0] == gemm.inputs[1]) continue;
    for (size_t operand = 0; operand < 2; ++operand) {
      const auto transpose = sole_transpose_producer(g, producers, gemm.inputs[operand]);
      if (!transpose || transpose->perm != std::vector<int64_t>{1, 0}) continue;
      const char* flag = operand == 0 ? "transA" : "transB";
      gemm.attributes[flag] = int64_t{1} - attribute<int64_t>(gemm, flag).value_or(0);
      gemm.inputs[operand] = g.nodes[transpose->node].inputs[0];
      folded.push_back(transpose->node);
    }
  }
  ir::remove_nodes(g, folded);
  return static_cast<int>(folded.size());
}

}  // namespace kiln::passes
