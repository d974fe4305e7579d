// Runs the optimizer's passes by level: 0 none, 1 basic (hardware-independent), 2 extended
// (fusions into Kiln's fused kernels), 3 layout. Each level's passes are listed, in order, in
// pass_manager.cc, the one place that says what runs when.
#pragma once

#include "core/cpu_features.h"
#include "ir/graph.h"

namespace kiln::passes {

// Applies every pass of each level up to `level`, each level repeated until nothing changes.
// `cpu_level` is the session's: the layout level picks the NCHWc block its kernels compute with.
void optimize(ir::Model& model, int level, CpuLevel cpu_level);

}  // namespace kiln::passes
