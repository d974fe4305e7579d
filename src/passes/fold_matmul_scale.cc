#include "passes/fold_matmul_scale.h"

#include "ir/graph_edit.h"
#include "passes/match.h"

namespace kiln::passes {

int FoldMatMulScale::run(ir::Model& model) const {
  ir::Graph& g = model.graph;
  std::vector<size_t> folded;
  for (ir::Node& matmul : g.nodes) {
    const auto consumer = weight_matmul_consumer(g, matmul);
    if (!consumer) continue;
    const Tensor* w = float_initializer(g, matmul.inputs[1]);
    const ir::Node& op = g.nodes[*consumer];
    const bool mul = is_op(op, "Mul"), div = is_op(op, "Div");
    const auto c_name = (mul || div) ? other_operand(op, matmul.outputs[0]) : std::nullopt;
    if (!c_name || op.outputs.size() != 1 || (div && op.inputs[0] != matmul.outputs[0])) continue;
    const Tensor* c = float_initializer(g, *c_name);
    const int64_t K = w->dim(0), N = w->dim(1);
    // A [N] vector scales columns; anything of another shape could broadcast the result wider.
    if (!c || !(c->numel() == 1 ? c->rank() <= 1 : c->rank() == 1 && c->dim(0) == N)) continue;
    const float* cv = c->data<float>();
    bool has_zero = false;
    for (int64_t n = 0; n < c->numel(); ++n) has_zero = has_zero || cv[n] == 0.f;
    if (div && has_zero) continue;
    Tensor scaled(DType::Float32, w->shape());
    for (int64_t k = 0; k < K; ++k)
      for (int64_t n = 0; n < N; ++n) {
        const float s = cv[c->numel() == 1 ? 0 : n];
        scaled.data<float>()[k * N + n] = div ? w->data<float>()[k * N + n] / s : w->data<float>()[k * N + n] * s;
      }
    const std::string name = ir::unique_value_name(g, matmul.name + "_scaled_W");
    g.initializers[name] = std::move(scaled);
    matmul.inputs[1] = name;
    matmul.outputs[0] = op.outputs[0];
    folded.push_back(*consumer);
  }
  ir::remove_nodes(g, folded);
  return static_cast<int>(folded.size());
}

}  // namespace kiln::passes
