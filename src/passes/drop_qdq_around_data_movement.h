// Level 2: DQ -> MaxPool | Reshape | Flatten | Transpose | Squeeze | Unsqueeze -> Q, where the Q has
// the DQ's scale, zero point and type, moves the integers as they are: the op reads the DQ's input
// and writes the Q's output, and both go (ONNX Runtime's DropQDQNodes rule). Exact: these ops only
// select and move values, and requantizing a dequantized 8-bit value with its own parameters gives
// it back.
#pragma once

#include "passes/pass.h"

namespace kiln::passes {

class DropQdqAroundDataMovement final : public GraphPass {
 public:
  const char* name() const override { return "DropQdqAroundDataMovement"; }
  int run(ir::Model& model) const override;
};

}  // namespace kiln::passes
