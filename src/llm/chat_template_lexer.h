// The lexer of Kiln's Jinja subset: a template's source into text runs and the tokens of its
// {{ ... }} and {% ... %} tags, comments dropped. Whitespace is handled here, once, the way Hugging
// Face's renderer configures Jinja: trim_blocks (the newline after a block or comment tag goes),
// lstrip_blocks (spaces and tabs before a block or comment tag on its own line go), and the '-' /
// '+' markers on a tag's inside edge; newlines are normalized to '\n' and one trailing newline of
// the template is dropped (Jinja's keep_trailing_newline=False).
#pragma once

#include <string>
#include <vector>

#include "llm/chat_template_error.h"

namespace kiln::llm::jinja {

enum class TokenKind {
  Text,        // literal output; `text` holds it
  VarBegin,    // {{
  VarEnd,      // }}
  BlockBegin,  // {%
  BlockEnd,    // %}
  Name,        // identifiers and keywords (if, in, not, true, none, ...)
  Integer,     // `text` holds the digits
  Float,
  String,      // `text` holds the decoded value
  Operator,    // `text` holds the spelling: + - * / // % ** ~ == != < <= > >= = ( ) [ ] { } , . : |
  End,         // the end of the source
};

struct Token {
  TokenKind kind = TokenKind::End;
  std::string text;
  SourcePos pos;
};

// Throws Error(InvalidArgument) naming `template_name` and the line:column for an unclosed tag,
// comment or string, or a character no token starts with.
std::vector<Token> tokenize(const std::string& source, const std::string& template_name);

}  // namespace kiln::llm::jinja
