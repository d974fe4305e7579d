// Where in a chat template something is, and the one way its lexer, parser and evaluator fail:
// a kiln::Error whose message starts with the template's name and the line:column of the construct.
// Value operations and builtins, which do not know where they were called from, throw a Fault
// instead; the evaluator turns it into that Error at the expression that failed.
#pragma once

#include <string>
#include <utility>

#include "kiln/error.h"

namespace kiln::llm::jinja {

struct SourcePos {
  int line = 1;
  int column = 1;
};

[[noreturn]] inline void fail_at(ErrorCode code, const std::string& template_name, SourcePos pos,
                                 const std::string& problem) {
  throw Error(code, template_name + " " + std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": " +
                        problem);
}

struct Fault {
  ErrorCode code;
  std::string message;
};

[[noreturn]] inline void fault(ErrorCode code, std::string message) { throw Fault{code, std::move(message)}; }

}  // namespace kiln::llm::jinja
