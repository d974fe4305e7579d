// kiln::Error: the one exception type Kiln throws. Thrown where a problem is detected, caught at API
// boundaries (CLI exit code, Python exception, HTTP status).
#pragma once

#include <stdexcept>
#include <string>

namespace kiln {

enum class ErrorCode {
  InvalidArgument,  // a caller passed something wrong: input names, dtypes, shapes, options
  InvalidModel,     // the model file is malformed or inconsistent
  NotImplemented,   // a valid model uses something Kiln does not support (op, opset, dtype)
  Io,               // a file could not be read or written
  Runtime,          // a failure while running (a kernel met data it cannot handle, out of memory)
};

const char* error_code_name(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace kiln
