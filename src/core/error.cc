#include "kiln/error.h"

namespace kiln {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::InvalidArgument: return "invalid argument";
    case ErrorCode::InvalidModel: return "invalid model";
    case ErrorCode::NotImplemented: return "not implemented";
    case ErrorCode::Io: return "I/O error";
    case ErrorCode::Runtime: return "runtime error";
  }
  return "error";
}

}  // namespace kiln
