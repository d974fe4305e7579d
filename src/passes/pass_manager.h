// Runs the optimizer's passes by level: 0 none, 1 basic (hardware-independent rewrites that keep
// standard ONNX ops), 2 extended (fusions into Kiln's fused kernels), 3 layout. Each level's
// passes are listed, in order, in pass_manager.cc, the one place that says what runs when.
#pragma once

#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "core/trace.h"
#include "ir/graph.h"
#include "kiln/session.h"

namespace kiln::passes {

struct OptimizeOptions {
  int level = 3;
  // The session's: constant folding computes with its kernels, and the layout level picks the
  // NCHWc block they compute with.
  CpuLevel cpu_level = CpuLevel::Scalar;
  std::vector<std::string> disabled_passes;  // by name; an unknown name is an InvalidArgument error
  Trace* trace = nullptr;  // when given, gets an event per pass per round
};

// Applies every enabled pass of each level up to `options.level`, each level repeated until no
// pass changes the graph, and reports what each pass did, in the order they are listed.
std::vector<PassReport> optimize(ir::Model& model, const OptimizeOptions& options);

struct PassListing {
  int level;
  std::string name;
};
// Every pass of every level, in the order they run.
std::vector<PassListing> list_passes();

}  // namespace kiln::passes
