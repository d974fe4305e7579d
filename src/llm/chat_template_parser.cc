#include "llm/chat_template_parser.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "llm/chat_template_builtins.h"

namespace kiln::llm::jinja {
namespace {

// Deeper nesting of blocks or parentheses than this is an error, never a stack overflow.
constexpr int kMaxDepth = 100;

using ExprPtr = std::unique_ptr<Expr>;

ExprPtr make(ExprKind kind, SourcePos pos, std::string name = {}) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->pos = pos;
  e->name = std::move(name);
  return e;
}

ExprPtr make_with(ExprKind kind, SourcePos pos, std::string name, ExprPtr first, ExprPtr second = nullptr) {
  ExprPtr e = make(kind, pos, std::move(name));
  e->operands.push_back(std::move(first));
  if (second) e->operands.push_back(std::move(second));
  return e;
}

bool one_of(const std::string& s, std::initializer_list<const char*> options) {
  return std::any_of(options.begin(), options.end(), [&](const char* o) { return s == o; });
}

// Jinja statements Kiln leaves out: an error that names them, not "unknown statement".
const char* const kUnsupportedStatements[] = {"macro", "call", "include", "import", "from", "extends", "block",
                                              "filter", "with", "raw", "break", "continue", "autoescape", "do",
                                              "trans", "generation"};

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, const std::string& name) : tokens_(tokens), name_(name) {}

  std::vector<Node> run() {
    std::string ended_by;
    return parse_body({}, ended_by, {}, "");
  }

 private:
  struct DepthGuard {
    DepthGuard(Parser& p, SourcePos pos) : parser(p) {
      if (++parser.depth_ > kMaxDepth)
        parser.fail(ErrorCode::InvalidArgument, pos, "nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    ~DepthGuard() { --parser.depth_; }
    Parser& parser;
  };

  const Token& peek(size_t ahead = 0) const { return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)]; }
  const Token& next() {
    const Token& t = peek();
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }
  bool at_op(const char* op, size_t ahead = 0) const {
    return peek(ahead).kind == TokenKind::Operator && peek(ahead).text == op;
  }
  bool at_name(const char* name, size_t ahead = 0) const {
    return peek(ahead).kind == TokenKind::Name && peek(ahead).text == name;
  }

  [[noreturn]] void fail(ErrorCode code, SourcePos pos, const std::string& problem) const {
    fail_at(code, name_, pos, problem);
  }
  static std::string spelled(const Token& t) {
    switch (t.kind) {
      case TokenKind::Text: return "text";
      case TokenKind::VarBegin: return "'{{'";
      case TokenKind::VarEnd: return "the end of the tag ('}}')";
      case TokenKind::BlockBegin: return "'{%'";
      case TokenKind::BlockEnd: return "the end of the tag ('%}')";
      case TokenKind::End: return "the end of the template";
      case TokenKind::String: return "a string";
      default: return "'" + t.text + "'";
    }
  }
  [[noreturn]] void unexpected(const std::string& wanted) const {
    fail(ErrorCode::InvalidArgument, peek().pos, "expected " + wanted + ", got " + spelled(peek()));
  }
  void expect_op(const char* op) {
    if (!at_op(op)) unexpected(std::string("'") + op + "'");
    next();
  }
  void expect(TokenKind kind, const char* wanted) {
    if (peek().kind != kind) unexpected(wanted);
    next();
  }
  void expect_block_end() { expect(TokenKind::BlockEnd, "the end of the statement ('%}')"); }
  const Token& expect_name(const char* wanted) {
    if (peek().kind != TokenKind::Name) unexpected(wanted);
    return next();
  }

  // Statements up to one of `ends` (whose keyword is consumed and returned in `ended_by`), or to the
  // end of the template when `ends` is empty.
  std::vector<Node> parse_body(std::initializer_list<const char*> ends, std::string& ended_by, SourcePos opened,
                               const std::string& opener) {
    std::vector<Node> body;
    while (true) {
      const Token& t = peek();
      if (t.kind == TokenKind::End) {
        if (ends.size() == 0) return body;
        fail(ErrorCode::InvalidArgument, opened,
             "'" + opener + "' is never closed (expected '" + *(ends.end() - 1) + "')");
      }
      Node node;
      node.pos = t.pos;
      if (t.kind == TokenKind::Text) {
        node.kind = NodeKind::Text;
        node.text = next().text;
      } else if (t.kind == TokenKind::VarBegin) {
        next();
        node.kind = NodeKind::Output;
        node.expr = parse_expression();
        expect(TokenKind::VarEnd, "the end of the expression ('}}')");
      } else if (t.kind == TokenKind::BlockBegin) {
        next();
        const Token& keyword = expect_name("a statement name");
        if (std::find_if(ends.begin(), ends.end(), [&](const char* e) { return keyword.text == e; }) != ends.end()) {
          ended_by = keyword.text;
          return body;
        }
        parse_statement(node, keyword, ends.size() ? *(ends.end() - 1) : "");
      } else {
        unexpected("text, '{{' or '{%'");
      }
      body.push_back(std::move(node));
    }
  }

  void parse_statement(Node& node, const Token& keyword, const std::string& awaited) {
    const DepthGuard guard(*this, keyword.pos);
    const std::string& k = keyword.text;
    if (k == "if") return parse_if(node);
    if (k == "for") return parse_for(node);
    if (k == "set") return parse_set(node);
    if (std::find_if(std::begin(kUnsupportedStatements), std::end(kUnsupportedStatements),
                     [&](const char* s) { return k == s; }) != std::end(kUnsupportedStatements))
      fail(ErrorCode::NotImplemented, keyword.pos, "'{% " + k + " %}' is not supported");
    if (one_of(k, {"elif", "else", "endif", "endfor", "endset"}))
      fail(ErrorCode::InvalidArgument, keyword.pos,
           "unexpected '" + k + "'" + (awaited.empty() ? "" : " (expected '" + awaited + "')"));
    fail(ErrorCode::InvalidArgument, keyword.pos, "unknown statement '" + k + "'");
  }

  void parse_if(Node& node) {
    node.kind = NodeKind::If;
    ExprPtr condition = parse_expression();
    expect_block_end();
    while (true) {
      std::string ended_by;
      std::vector<Node> body = parse_body({"elif", "else", "endif"}, ended_by, node.pos, "if");
      node.branches.emplace_back(std::move(condition), std::move(body));
      if (ended_by == "endif") break;
      if (ended_by == "else") {
        expect_block_end();
        std::vector<Node> else_body = parse_body({"endif"}, ended_by, node.pos, "if");
        node.branches.emplace_back(nullptr, std::move(else_body));
        break;
      }
      condition = parse_expression();
      expect_block_end();
    }
    expect_block_end();
  }

  void parse_for(Node& node) {
    node.kind = NodeKind::For;
    node.names.push_back(expect_name("a loop variable").text);
    while (at_op(",")) {
      next();
      node.names.push_back(expect_name("a loop variable").text);
    }
    if (!at_name("in")) unexpected("'in'");
    next();
    node.expr = parse_expression(false);
    if (at_name("if")) {
      next();
      node.filter = parse_expression(false);
    }
    if (at_name("recursive")) fail(ErrorCode::NotImplemented, peek().pos, "recursive loops are not supported");
    expect_block_end();
    std::string ended_by;
    node.body = parse_body({"else", "endfor"}, ended_by, node.pos, "for");
    if (ended_by == "else") {
      expect_block_end();
      node.else_body = parse_body({"endfor"}, ended_by, node.pos, "for");
    }
    expect_block_end();
  }

  void parse_set(Node& node) {
    node.kind = NodeKind::Set;
    node.names.push_back(expect_name("a variable name").text);
    if (at_op(".")) {
      next();
      node.names.push_back(expect_name("an attribute name").text);
    }
    if (peek().kind == TokenKind::BlockEnd)
      fail(ErrorCode::NotImplemented, peek().pos, "block assignments ({% set x %}...{% endset %}) are not supported");
    if (at_op(",")) fail(ErrorCode::NotImplemented, peek().pos, "assigning to several names at once is not supported");
    expect_op("=");
    node.expr = parse_expression();
    expect_block_end();
  }

  ExprPtr parse_expression(bool with_conditional = true) {
    const DepthGuard guard(*this, peek().pos);
    ExprPtr e = parse_or();
    while (with_conditional && at_name("if")) {
      const SourcePos pos = next().pos;
      ExprPtr condition = parse_or();
      ExprPtr otherwise;
      if (at_name("else")) {
        next();
        otherwise = parse_expression();
      }
      ExprPtr c = make_with(ExprKind::Conditional, pos, "", std::move(e), std::move(condition));
      c->operands.push_back(std::move(otherwise));
      e = std::move(c);
    }
    return e;
  }

  ExprPtr parse_not() {
    if (!at_name("not")) return parse_compare();
    const DepthGuard guard(*this, peek().pos);
    const SourcePos pos = next().pos;
    return make_with(ExprKind::Unary, pos, "not", parse_not());
  }

  // The comparison operator at the cursor ("" when none), consumed.
  std::string comparison() {
    const Token& t = peek();
    if (t.kind == TokenKind::Operator && one_of(t.text, {"==", "!=", "<", "<=", ">", ">="})) return next().text;
    if (at_name("in")) {
      next();
      return "in";
    }
    if (at_name("not") && at_name("in", 1)) {
      pos_ += 2;
      return "not in";
    }
    return "";
  }

  ExprPtr parse_compare() {
    ExprPtr e = parse_math1();
    const SourcePos pos = peek().pos;
    const std::string op = comparison();
    if (op.empty()) return e;
    e = make_with(ExprKind::Binary, pos, op, std::move(e), parse_math1());
    const SourcePos chained = peek().pos;
    if (!comparison().empty())
      fail(ErrorCode::NotImplemented, chained, "chained comparisons (a < b < c) are not supported");
    return e;
  }

  // operand (op operand)*, left to right; `ops` are operators or keywords (and, or).
  template <typename Operand>
  ExprPtr parse_left_assoc(std::initializer_list<const char*> ops, Operand operand) {
    ExprPtr e = (this->*operand)();
    while ((peek().kind == TokenKind::Operator || peek().kind == TokenKind::Name) && one_of(peek().text, ops)) {
      const Token& op = next();
      e = make_with(ExprKind::Binary, op.pos, op.text, std::move(e), (this->*operand)());
    }
    return e;
  }
  ExprPtr parse_or() { return parse_left_assoc({"or"}, &Parser::parse_and); }
  ExprPtr parse_and() { return parse_left_assoc({"and"}, &Parser::parse_not); }
  ExprPtr parse_math1() { return parse_left_assoc({"+", "-"}, &Parser::parse_concat); }
  ExprPtr parse_concat() { return parse_left_assoc({"~"}, &Parser::parse_math2); }
  ExprPtr parse_math2() { return parse_left_assoc({"*", "/", "//", "%"}, &Parser::parse_pow); }
  ExprPtr parse_pow() { return parse_left_assoc({"**"}, &Parser::parse_filtered_unary); }
  ExprPtr parse_filtered_unary() { return parse_unary(true); }

  // As Jinja: a sign applies before filters and tests (-x|abs is (-x)|abs).
  ExprPtr parse_unary(bool with_filter) {
    const DepthGuard guard(*this, peek().pos);
    ExprPtr e;
    if (at_op("-") || at_op("+")) {
      const Token& sign = next();
      e = make_with(ExprKind::Unary, sign.pos, sign.text, parse_unary(false));
    } else {
      e = parse_primary();
    }
    e = parse_postfix(std::move(e));
    return with_filter ? parse_filters_and_tests(std::move(e)) : std::move(e);
  }

  ExprPtr literal(SourcePos pos, Json value) {
    ExprPtr e = make(ExprKind::Literal, pos);
    e->value = std::move(value);
    return e;
  }

  ExprPtr parse_primary() {
    const Token& t = peek();
    const SourcePos pos = t.pos;
    switch (t.kind) {
      case TokenKind::Name:
        next();
        if (t.text == "true" || t.text == "True") return literal(pos, true);
        if (t.text == "false" || t.text == "False") return literal(pos, false);
        if (t.text == "none" || t.text == "None") return literal(pos, nullptr);
        return make(ExprKind::Name, pos, t.text);
      case TokenKind::String: {
        std::string s;
        while (peek().kind == TokenKind::String) s += next().text;  // adjacent literals join
        return literal(pos, std::move(s));
      }
      case TokenKind::Integer: {
        next();
        errno = 0;
        const long long v = std::strtoll(t.text.c_str(), nullptr, 10);
        if (errno == ERANGE) fail(ErrorCode::NotImplemented, pos, "the integer " + t.text + " is beyond 64 bits");
        return literal(pos, static_cast<int64_t>(v));
      }
      case TokenKind::Float:
        next();
        return literal(pos, std::strtod(t.text.c_str(), nullptr));
      case TokenKind::Operator:
        if (t.text == "(") return parse_parenthesized();
        if (t.text == "[") return parse_list();
        if (t.text == "{") return parse_dict();
        break;
      default:
        break;
    }
    unexpected("an expression");
  }

  // (e) is e; (a, b) and () are tuples, which Kiln holds as lists.
  ExprPtr parse_parenthesized() {
    const SourcePos pos = next().pos;
    if (at_op(")")) {
      next();
      return make(ExprKind::List, pos);
    }
    ExprPtr first = parse_expression();
    if (!at_op(",")) {
      expect_op(")");
      return first;
    }
    ExprPtr tuple = make(ExprKind::List, pos);
    tuple->operands.push_back(std::move(first));
    while (at_op(",")) {
      next();
      if (at_op(")")) break;
      tuple->operands.push_back(parse_expression());
    }
    expect_op(")");
    return tuple;
  }

  ExprPtr parse_list() {
    ExprPtr list = make(ExprKind::List, next().pos);
    while (!at_op("]")) {
      if (!list->operands.empty()) expect_op(",");
      if (at_op("]")) break;
      list->operands.push_back(parse_expression());
    }
    next();
    return list;
  }

  ExprPtr parse_dict() {
    ExprPtr dict = make(ExprKind::Dict, next().pos);
    while (!at_op("}")) {
      if (!dict->operands.empty()) expect_op(",");
      if (at_op("}")) break;
      dict->operands.push_back(parse_expression());
      expect_op(":");
      dict->operands.push_back(parse_expression());
    }
    next();
    return dict;
  }

  ExprPtr parse_postfix(ExprPtr e) {
    while (true) {
      if (at_op(".")) {
        const SourcePos pos = next().pos;
        if (peek().kind == TokenKind::Integer) {  // messages.0 is messages[0]
          ExprPtr index = parse_primary();
          e = make_with(ExprKind::Subscript, pos, "", std::move(e), std::move(index));
        } else {
          e = make_with(ExprKind::Attribute, pos, expect_name("an attribute name").text, std::move(e));
        }
      } else if (at_op("[")) {
        e = parse_subscript(std::move(e));
      } else if (at_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr e) {
    const SourcePos pos = next().pos;
    ExprPtr start = at_op(":") ? nullptr : parse_expression();
    if (!at_op(":")) {
      expect_op("]");
      return make_with(ExprKind::Subscript, pos, "", std::move(e), std::move(start));
    }
    ExprPtr slice = make_with(ExprKind::Slice, pos, "", std::move(e));
    slice->operands.push_back(std::move(start));
    next();
    slice->operands.push_back(at_op(":") || at_op("]") ? nullptr : parse_expression());
    if (at_op(":")) {
      next();
      slice->operands.push_back(at_op("]") ? nullptr : parse_expression());
    } else {
      slice->operands.push_back(nullptr);
    }
    expect_op("]");
    return slice;
  }

  // `(` args `)` onto `e`, whose operands already hold the callee or subject.
  void parse_arguments(Expr& e) {
    expect_op("(");
    while (!at_op(")")) {
      if (e.operands.size() > 1 || !e.keywords.empty()) expect_op(",");
      if (at_op(")")) break;
      if (at_op("*") || at_op("**"))
        fail(ErrorCode::NotImplemented, peek().pos, "*args and **kwargs in calls are not supported");
      if (peek().kind == TokenKind::Name && at_op("=", 1)) {
        std::string key = next().text;
        next();
        e.keywords.emplace_back(std::move(key), parse_expression());
      } else {
        if (!e.keywords.empty()) fail(ErrorCode::InvalidArgument, peek().pos, "a positional argument after a keyword argument");
        e.operands.push_back(parse_expression());
      }
    }
    next();
  }

  ExprPtr parse_call(ExprPtr callee) {
    const SourcePos pos = callee->pos;
    ExprPtr call = make_with(ExprKind::Call, pos, "", std::move(callee));
    parse_arguments(*call);
    return call;
  }

  ExprPtr parse_filters_and_tests(ExprPtr e) {
    while (true) {
      if (at_op("|")) {
        next();
        const Token& name = expect_name("a filter name");
        if (!is_filter(name.text)) fail(ErrorCode::NotImplemented, name.pos, "the filter '" + name.text + "' is not supported");
        e = make_with(ExprKind::Filter, name.pos, name.text, std::move(e));
        if (at_op("(")) parse_arguments(*e);
      } else if (at_name("is")) {
        e = parse_test(std::move(e));
      } else if (at_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_test(ExprPtr subject) {
    next();
    const bool negated = at_name("not");
    if (negated) next();
    const Token& name = expect_name("a test name");
    if (!is_test(name.text)) fail(ErrorCode::NotImplemented, name.pos, "the test '" + name.text + "' is not supported");
    ExprPtr test = make_with(ExprKind::Test, name.pos, name.text, std::move(subject));
    test->negated = negated;
    const Token& t = peek();
    // As Jinja: one argument may follow without parentheses (`is divisibleby 3`, `is equalto 'x'`).
    const bool bare_argument =
        (t.kind == TokenKind::Name && !one_of(t.text, {"else", "or", "and"})) || t.kind == TokenKind::String ||
        t.kind == TokenKind::Integer || t.kind == TokenKind::Float || at_op("[") || at_op("{");
    if (at_op("(")) {
      parse_arguments(*test);
    } else if (bare_argument) {
      if (at_name("is")) fail(ErrorCode::InvalidArgument, t.pos, "tests cannot be chained with 'is'");
      test->operands.push_back(parse_postfix(parse_primary()));
    }
    return test;
  }

  const std::vector<Token>& tokens_;
  const std::string& name_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

std::vector<Node> parse_template(const std::vector<Token>& tokens, const std::string& template_name) {
  return Parser(tokens, template_name).run();
}

}  // namespace kiln::llm::jinja
