#include "core/read_file.h"

#include <fstream>
#include <sstream>

#include "kiln/error.h"

namespace kiln {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::Io, "cannot open '" + path + "'");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw Error(ErrorCode::Io, "cannot read '" + path + "'");
  return buffer.str();
}

}  // namespace kiln
