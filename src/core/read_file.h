// A whole file's bytes, for the small files Kiln reads at once (.npy inputs, serialized tensors,
// JSON configs). Large checkpoints are mapped instead (core/mapped_file.h).
#pragma once

#include <string>

namespace kiln {

// Throws Error(Io) naming the path when the file cannot be opened or read.
std::string read_file(const std::string& path);

}  // namespace kiln
