// Level 3: moves chains of convolutions into the channel-blocked layout NCHWc
// (kernels/cpu/nchwc.h), as ONNX Runtime's NchwcTransformer does. Shapes are not known at session
// creation, so the pass decides from weights and attributes alone, walking the graph in
// topological order:
//   - Conv / kiln.FusedConv with constant float 2-D weights, group 1 (at least a block of input
//     or of output channels) or depthwise, strides 1 or 2 and explicit pads become kiln.NchwcConv.
//     Its X and Z read NCHWc twins, made by one kiln.NchwcReorderInput per source value where none
//     exists; except that an input of fewer channels than a block with no twin (an RGB image) is
//     read as it is (nchw_input): padding 3 channels to a block would waste most of the work.
//   - 2-D pools whose input already has a twin become kiln.Nchwc<pool>; nothing is reordered
//     just to pool.
//   - Elementwise ops that cannot make padded channels non-finite (activations; Add, Sub, Mul of
//     two twins of one channel count or of a twin and a scalar constant) read and write twins.
// A converted node's ONNX output name keeps meaning NCHW data: every other reader of it, and a
// graph output, gets it from one kiln.NchwcReorderOutput per value. So reorders sit only at the
// chains' boundaries.
#pragma once

#include <cstdint>

#include "passes/pass.h"

namespace kiln::passes {

class NchwcLayout final : public GraphPass {
 public:
  // `block`: the NCHWc block of the session's CPU level (kernels::nchwc_block).
  explicit NchwcLayout(int64_t block) : block_(block) {}
  const char* name() const override { return "NchwcLayout"; }
  int run(ir::Model& model) const override;

 private:
  int64_t block_;
};

}  // namespace kiln::passes
