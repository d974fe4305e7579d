// Level 2: multi-head attention as exporters write it,
//   Qh = Transpose(Reshape(q, [b, s, heads, head_size]), [0, 2, 1, 3])     (V likewise)
//   Kt = Transpose(Reshape(k, [b, s, heads, head_size]), [0, 2, 3, 1])     (after CancelTransposes)
//   P = Softmax(Add(Div(MatMul(Qh, Kt), c), mask), axis = -1)             (Mul by c, no Div, no mask)
//   y = Reshape(Transpose(MatMul(P, Vh), [0, 2, 1, 3]), [b, s, heads * head_size])
// =>  kiln.Attention(q, k, v, mask, num_heads, scale): one kernel reading the heads in place from
// the projections' [batch, seq, heads * head_size] outputs and writing the result in that layout,
// so the four transposes, the scores tensor and the passes over it are gone. Every intermediate
// must be read by the pattern alone; c must be a scalar constant.
#pragma once

#include "passes/pass.h"

namespace kiln::passes {

class FuseAttention final : public GraphPass {
 public:
  const char* name() const override { return "FuseAttention"; }
  int run(ir::Model& model) const override;
};

}  // namespace kiln::passes
