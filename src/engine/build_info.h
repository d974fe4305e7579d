// What an engine file records about its making (engine.fbs BuildInfo): `kiln info` prints it, and
// loading checks the CPU against it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/cpu_features.h"

namespace kiln::engine {

struct BuildInfo {
  std::string kiln_version;
  CpuLevel cpu_level = CpuLevel::Scalar;
  std::vector<std::string> cpu_features;  // what the level's kernels use
  std::string source_name;
  uint64_t source_xxh64 = 0, source_bytes = 0;
  int optimization_level = 0;
  std::vector<std::string> disabled_passes;
  std::map<std::string, int64_t> dim_overrides;
  int64_t created_unix_seconds = 0;
};

// The source's identity (name, size and XXH64 of its bytes) and the CPU level's features; the
// caller fills in the options it built with.
BuildInfo describe_build(CpuLevel level, const std::string& source_name, const void* source, size_t source_bytes);

// The Kiln version written into engines (and printed by `kiln --version`).
const char* kiln_version();

}  // namespace kiln::engine
