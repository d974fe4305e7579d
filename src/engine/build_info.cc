#include "engine/build_info.h"

#include <ctime>

#include "core/hash.h"

namespace kiln::engine {

const char* kiln_version() { return "0.1.0"; }

BuildInfo describe_build(CpuLevel level, const std::string& source_name, const void* source, size_t source_bytes) {
  BuildInfo info;
  info.kiln_version = kiln_version();
  info.cpu_level = level;
  info.cpu_features = cpu_level_features(level);
  info.source_name = source_name;
  info.source_xxh64 = xxh64(source, source_bytes);
  info.source_bytes = source_bytes;
  info.created_unix_seconds = static_cast<int64_t>(std::time(nullptr));
  return info;
}

}  // namespace kiln::engine
