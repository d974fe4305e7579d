// One graph rewrite. A pass finds the places its pattern matches and rewrites them, leaving any
// match it cannot handle untouched; run() reports how many rewrites it made (0: the model is
// unchanged), so the pass manager can iterate a level to a fixed point and report change counts.
#pragma once

#include "ir/graph.h"

namespace kiln::passes {

class GraphPass {
 public:
  virtual ~GraphPass() = default;
  virtual const char* name() const = 0;
  virtual int run(ir::Model& model) const = 0;
};

// The domain of the fused ops that passes create, and the opset they need imported.
inline constexpr const char* kKilnDomain = "kiln";
void import_kiln_domain(ir::Model& model);

}  // namespace kiln::passes
