// The parser of Kiln's Jinja subset: tokens into statements over expressions, with Jinja's
// operator precedence (filters and tests bind tighter than arithmetic; `not` looser than
// comparisons). Filter and test names are checked here, so that a template using one Kiln lacks
// fails when it is loaded, not at the first conversation that reaches it.
#pragma once

#include <string>
#include <vector>

#include "llm/chat_template_ast.h"
#include "llm/chat_template_lexer.h"

namespace kiln::llm::jinja {

// Throws Error(InvalidArgument) for malformed syntax (an unclosed block, a stray 'endif', a missing
// operand) and Error(NotImplemented) for Jinja outside the subset (macros, include, unknown filters
// and tests), each naming `template_name` and the construct's line:column.
std::vector<Node> parse_template(const std::vector<Token>& tokens, const std::string& template_name);

}  // namespace kiln::llm::jinja
