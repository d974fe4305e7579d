// The parsed form of a chat template: statements (text, output, if, for, set) over expressions.
// Built once by the parser and read, never changed, by every render.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "llm/chat_template_error.h"

namespace kiln::llm::jinja {

// Ordered, so that dicts keep their insertion order as Python's do (tojson, items()).
using Json = nlohmann::ordered_json;

enum class ExprKind {
  Literal,      // value
  Name,         // name
  List,         // operands: the items
  Dict,         // operands: key, value, key, value, ...
  Attribute,    // operands[0].name
  Subscript,    // operands[0][operands[1]]
  Slice,        // operands[0][operands[1]:operands[2]:operands[3]], each bound possibly null
  Call,         // operands[0](operands[1..], keywords)
  Filter,       // operands[0] | name(operands[1..], keywords)
  Test,         // operands[0] is [not] name(operands[1..])
  Unary,        // name operands[0]: "not", "-", "+"
  Binary,       // operands[0] name operands[1]: arithmetic, comparison, "and", "or", "in", "not in", "~"
  Conditional,  // operands[0] if operands[1] else operands[2] (null without an else)
};

struct Expr {
  ExprKind kind = ExprKind::Literal;
  SourcePos pos;
  std::string name;
  Json value;
  bool negated = false;  // `is not`
  std::vector<std::unique_ptr<Expr>> operands;
  std::vector<std::pair<std::string, std::unique_ptr<Expr>>> keywords;
};

enum class NodeKind {
  Text,    // text
  Output,  // {{ expr }}
  If,      // branches: (condition, body) in order; the else branch's condition is null
  For,     // for names in expr [if filter]: body, else_body
  Set,     // set names[0] = expr, or set names[0].names[1] = expr (a namespace attribute)
};

struct Node {
  NodeKind kind = NodeKind::Text;
  SourcePos pos;
  std::string text;
  std::unique_ptr<Expr> expr;
  std::unique_ptr<Expr> filter;
  std::vector<std::string> names;
  std::vector<std::pair<std::unique_ptr<Expr>, std::vector<Node>>> branches;
  std::vector<Node> body;
  std::vector<Node> else_body;
};

}  // namespace kiln::llm::jinja
