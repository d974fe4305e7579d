// The evaluator of Kiln's Jinja subset: runs a parsed template over its variables and returns the
// text. Scoping is Jinja's: `set` at the top level or inside `if` changes the template's variable;
// inside a `for` body it lasts only for that iteration (hence namespace(), whose attributes are
// shared by every scope).
#pragma once

#include <ctime>
#include <string>
#include <vector>

#include "llm/chat_template_ast.h"
#include "llm/chat_template_builtins.h"

namespace kiln::llm::jinja {

// `variables`: a JSON object of the template's variables, beside the builtin functions.
// Throws Error naming `template_name` and the line:column of the failing construct:
// InvalidArgument for operations on the wrong kinds of value, raise_exception(), and runs past
// `budget`; NotImplemented for methods and operations outside the subset.
std::string render_program(const std::vector<Node>& program, const std::string& template_name, Json variables,
                           std::time_t now, RenderBudget& budget);

}  // namespace kiln::llm::jinja
