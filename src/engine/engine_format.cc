#include "engine/engine_format.h"

#include <cstring>
#include <fstream>

namespace kiln::engine {

bool starts_like_engine(const void* bytes, size_t size) {
  return size >= sizeof(kEngineMagic) && std::memcmp(bytes, kEngineMagic, sizeof(kEngineMagic)) == 0;
}

bool is_engine_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[sizeof(kEngineMagic)] = {};
  in.read(magic, sizeof magic);
  return in && starts_like_engine(magic, sizeof magic);
}

}  // namespace kiln::engine
