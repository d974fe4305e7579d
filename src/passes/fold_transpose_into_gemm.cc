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
    for (size_t operand = 0; operand < 2; ++operand) {
      const auto producer = producers.find(gemm.inputs[operand]);
      if (producer == producers.end()) continue;
      const ir::Node& transpose = g.nodes[producer->second];
      const auto perm = attribute<std::vector<int64_t>>(transpose, "perm");
      if (!is_op(transpose, "Transpose") || transpose.inputs.size() != 1 || perm != std::vector<int64_t>{1, 0} ||
          !sole_consumer(g, transpose.outputs[0]))
        continue;
      // Gemm(X, X): one Transpose feeding both operands has two uses of one reader.
      if (gemm.inputs[0] == gemm.inputs[1]) continue;
      const char* flag = operand == 0 ? "transA" : "transB";
      gemm.attributes[flag] = int64_t{1} - attribute<int64_t>(gemm, flag).value_or(0);
      gemm.inputs[operand] = transpose.inputs[0];
      folded.push_back(producer->second);
    }
  }
  ir::remove_nodes(g, folded);
  return static_cast<int>(folded.size());
}

}  // namespace kiln::passes
