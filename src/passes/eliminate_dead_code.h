// Level 1: removes the nodes whose outputs nothing reads (no node, no graph output, no subgraph),
// and the initializers nothing reads. Graph inputs stay: they are the model's interface.
#pragma once

#include "passes/pass.h"

namespace kiln::passes {

class EliminateDeadCode final : public GraphPass {
 public:
  const char* name() const override { return "EliminateDeadCode"; }
  int run(ir::Model& model) const override;
};

}  // namespace kiln::passes
