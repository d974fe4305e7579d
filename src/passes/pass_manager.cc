#include "passes/pass_manager.h"

#include <memory>
#include <vector>

#include "kernels/cpu/nchwc.h"
#include "kiln/error.h"
#include "passes/fuse_activation.h"
#include "passes/fuse_conv_add.h"
#include "passes/fuse_nchwc_pointwise_depthwise.h"
#include "passes/nchwc_layout.h"

namespace kiln::passes {
namespace {

std::vector<std::unique_ptr<GraphPass>> passes_of_level(int level, CpuLevel cpu_level) {
  std::vector<std::unique_ptr<GraphPass>> passes;
  if (level == 2) {
    // The residual Add must be fused before the activation: FusedConv adds Z before activating,
    // so once an activation is in, no Add can follow it in.
    passes.push_back(std::make_unique<FuseConvAdd>());
    passes.push_back(std::make_unique<FuseActivation>());
  }
  if (level == 3) {
    // After every fusion: NchwcConv takes FusedConv's residual and activation as they are, and a
    // fusion after it would not recognize the NCHWc ops. It changes the graph once; its second
    // round finds the graph laid out and stops.
    passes.push_back(std::make_unique<NchwcLayout>(kernels::nchwc_block(cpu_level)));
    // Reads the NCHWc convolutions the layout made.
    passes.push_back(std::make_unique<FuseNchwcPointwiseDepthwise>());
  }
  return passes;
}

// Generous: each productive round removes at least one node, and real graphs settle in two or three.
constexpr int kMaxRounds = 100;

}  // namespace

void import_kiln_domain(ir::Model& model) { model.opset_imports.emplace(kKilnDomain, 1); }

void optimize(ir::Model& model, int level, CpuLevel cpu_level) {
  if (level < 0 || level > 3)
    throw Error(ErrorCode::InvalidArgument,
                "optimization level must be 0 (none) to 3 (all), got " + std::to_string(level));
  for (int l = 1; l <= level; ++l) {
    const auto passes = passes_of_level(l, cpu_level);
    for (int round = 0; round < kMaxRounds; ++round) {
      bool changed = false;
      for (const auto& pass : passes) changed = pass->run(model) || changed;
      if (!changed) break;
    }
  }
}

}  // namespace kiln::passes
