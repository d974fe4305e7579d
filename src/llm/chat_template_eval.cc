#include "llm/chat_template_eval.h"

#include <limits>
#include <unordered_map>

#include "llm/chat_template_text.h"

namespace kiln::llm::jinja {
namespace {

// How an expression reads in errors about what it refers to: `message.tool_calls`, `messages[0]`.
std::string spell(const Expr& e) {
  switch (e.kind) {
    case ExprKind::Name: return e.name;
    case ExprKind::Attribute: return spell(*e.operands[0]) + "." + e.name;
    case ExprKind::Subscript:
      return spell(*e.operands[0]) + "[" +
             (e.operands[1]->kind == ExprKind::Literal ? python_repr(e.operands[1]->value) : spell(*e.operands[1])) + "]";
    case ExprKind::Literal: return python_repr(e.value);
    default: return "(...)";
  }
}

// Python's slice bounds for a sequence of `length`: the indices it visits, in order.
std::vector<int64_t> slice_indices(int64_t length, const Value& start_v, const Value& stop_v, const Value& step_v) {
  const auto given = [](const Value& v) { return !v.is_undefined() && !v.is_none(); };
  const int64_t step = given(step_v) ? step_v.as_integer() : 1;
  if (step == 0) fault(ErrorCode::InvalidArgument, "slice step cannot be zero");
  const auto clamp = [&](const Value& v, int64_t absent) {
    if (!given(v)) return absent;
    int64_t i = v.as_integer();
    if (i < 0) {
      i += length;
      if (i < 0) i = step < 0 ? -1 : 0;
    } else if (i >= length) {
      i = step < 0 ? length - 1 : length;
    }
    return i;
  };
  const int64_t start = clamp(start_v, step < 0 ? length - 1 : 0);
  const int64_t stop = clamp(stop_v, step < 0 ? -1 : length);
  std::vector<int64_t> indices;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) indices.push_back(i);
  return indices;
}

class Renderer {
 public:
  Renderer(const std::string& name, Json variables, std::time_t now, RenderBudget& budget)
      : name_(name), context_{budget, now} {
    Scope globals;
    for (const std::string& f : function_names()) globals[f] = Value::function(f);
    const Value root = Value::of(std::move(variables));
    for (const auto& item : root.data().items()) globals[item.key()] = Value::element_of(root, item.value());
    scopes_.push_back(std::move(globals));
    scopes_.emplace_back();  // the template's own variables
  }

  std::string run(const std::vector<Node>& program) {
    exec(program);
    return std::move(out_);
  }

 private:
  using Scope = std::unordered_map<std::string, Value>;

  template <typename F>
  auto at(SourcePos pos, F&& f) -> decltype(f()) {
    try {
      return f();
    } catch (const Fault& fault) {
      fail_at(fault.code, name_, pos, fault.message);
    }
  }

  const Value* lookup(const std::string& name) const {
    for (auto scope = scopes_.rbegin(); scope != scopes_.rend(); ++scope) {
      const auto it = scope->find(name);
      if (it != scope->end()) return &it->second;
    }
    return nullptr;
  }

  void emit(const std::string& text) {
    context_.budget.spend_bytes(text.size());
    if (out_.size() + text.size() > context_.budget.max_size())
      fault(ErrorCode::InvalidArgument, "the output would exceed " + std::to_string(context_.budget.max_size()) + " bytes");
    out_ += text;
  }

  void exec(const std::vector<Node>& body) {
    for (const Node& node : body) at(node.pos, [&] { exec(node); });
  }

  void exec(const Node& node) {
    switch (node.kind) {
      case NodeKind::Text: return emit(node.text);
      case NodeKind::Output: return emit(to_str(eval(*node.expr)));
      case NodeKind::If:
        for (const auto& [condition, body] : node.branches) {
          if (!condition || truthy(eval(*condition))) return exec(body);
        }
        return;
      case NodeKind::For: return exec_for(node);
      case NodeKind::Set: return exec_set(node);
    }
  }

  void bind(const std::vector<std::string>& names, const Value& item) {
    Scope& scope = scopes_.back();
    if (names.size() == 1) {
      scope[names[0]] = item;
      return;
    }
    if (!item.is_list() || item.data().size() != names.size())
      fault(ErrorCode::InvalidArgument, "cannot unpack " + describe(item) + " into " + std::to_string(names.size()) + " loop variables");
    for (size_t i = 0; i < names.size(); ++i) scope[names[i]] = Value::element_of(item, item.data()[i]);
  }

  // Runs `f` in a scope of its own, for a loop body: what it sets is gone afterwards.
  template <typename F>
  void scoped(F&& f) {
    struct Pop {
      std::vector<Scope>& scopes;
      ~Pop() { scopes.pop_back(); }
    };
    scopes_.emplace_back();
    const Pop pop{scopes_};
    f();
  }

  void exec_for(const Node& node) {
    const Value iterable = eval(*node.expr);
    auto items = std::make_shared<std::vector<Value>>(at(node.expr->pos, [&] { return items_of(iterable); }));
    if (node.filter) {  // `for x in xs if cond`: loop.index counts only the items kept
      std::vector<Value> kept;
      for (const Value& item : *items) {
        context_.budget.spend_iteration();
        scoped([&] {
          bind(node.names, item);
          if (truthy(eval(*node.filter))) kept.push_back(item);
        });
      }
      *items = std::move(kept);
    }
    if (items->empty()) return scoped([&] { exec(node.else_body); });
    for (size_t i = 0; i < items->size(); ++i) {
      context_.budget.spend_iteration();
      scoped([&] {
        bind(node.names, (*items)[i]);
        scopes_.back()["loop"] = Value::loop(std::make_shared<const LoopState>(LoopState{items, i}));
        exec(node.body);
      });
    }
  }

  void exec_set(const Node& node) {
    Value value = eval(*node.expr);
    if (node.names.size() == 1) {
      scopes_.back()[node.names[0]] = std::move(value);
      return;
    }
    const Value* target = lookup(node.names[0]);
    if (!target || target->kind() != Value::Kind::Namespace)
      fault(ErrorCode::InvalidArgument, "cannot set attribute '" + node.names[1] + "' of " +
                                            (target ? describe(*target) : "undefined '" + node.names[0] + "'") +
                                            ": only namespace() objects take attributes");
    target->namespace_state().attributes[node.names[1]] = std::move(value);
  }

  Value eval(const Expr& e) {
    return at(e.pos, [&] { return evaluate(e); });
  }

  // Charges what an operation built to the budget.
  Value built(Value v) {
    if (v.is_string()) context_.budget.spend_bytes(v.string().size());
    else if (v.is_list()) context_.budget.spend_bytes(v.data().size());
    return v;
  }

  Value evaluate(const Expr& e) {
    switch (e.kind) {
      case ExprKind::Literal: return Value::of(e.value);
      case ExprKind::Name: {
        const Value* v = lookup(e.name);
        return v ? *v : Value::undefined(e.name);
      }
      case ExprKind::List: {
        Json list = Json::array();
        for (const auto& item : e.operands) list.push_back(eval(*item).data());
        return Value::of(std::move(list));
      }
      case ExprKind::Dict: {
        Json dict = Json::object();
        for (size_t i = 0; i + 1 < e.operands.size(); i += 2) {
          const Value key = eval(*e.operands[i]);
          if (!key.is_string()) fault(ErrorCode::NotImplemented, "dict keys other than strings are not supported");
          dict[key.string()] = eval(*e.operands[i + 1]).data();
        }
        return Value::of(std::move(dict));
      }
      case ExprKind::Attribute: return attribute(eval(*e.operands[0]), e.name, e);
      case ExprKind::Subscript: return item(eval(*e.operands[0]), eval(*e.operands[1]), e);
      case ExprKind::Slice: return slice(e);
      case ExprKind::Call: return built(call(e));
      case ExprKind::Filter: {
        const Value subject = eval(*e.operands[0]);
        const CallArgs args = arguments(e);
        return built(builtin("filter", e.name, [&] { return apply_filter(e.name, subject, args, context_); }));
      }
      case ExprKind::Test: {
        const Value subject = eval(*e.operands[0]);
        const CallArgs args = arguments(e);
        return Value::of(builtin("test", e.name, [&] { return apply_test(e.name, subject, args); }) != e.negated);
      }
      case ExprKind::Unary: return unary(e);
      case ExprKind::Binary: return binary(e);
      case ExprKind::Conditional:
        if (truthy(eval(*e.operands[1]))) return eval(*e.operands[0]);
        return e.operands[2] ? eval(*e.operands[2]) : Value::undefined(spell(*e.operands[0]));
    }
    fault(ErrorCode::NotImplemented, "an unknown expression");
  }

  // Names the builtin in what it Faults with.
  template <typename F>
  auto builtin(const char* kind, const std::string& name, F&& f) -> decltype(f()) {
    try {
      return f();
    } catch (Fault& fault) {
      if (name != "raise_exception") fault.message = std::string(kind) + " '" + name + "': " + fault.message;
      throw;
    }
  }

  CallArgs arguments(const Expr& e) {
    CallArgs args;
    for (size_t i = 1; i < e.operands.size(); ++i) args.positional.push_back(eval(*e.operands[i]));
    for (const auto& [key, value] : e.keywords) args.keywords.emplace_back(key, eval(*value));
    return args;
  }

  Value attribute(const Value& object, const std::string& name, const Expr& e) {
    switch (object.kind()) {
      case Value::Kind::Undefined:
        fault(ErrorCode::InvalidArgument, "cannot read '." + name + "' of " + describe(object));
      case Value::Kind::Namespace: {
        const auto& attributes = object.namespace_state().attributes;
        const auto it = attributes.find(name);
        return it == attributes.end() ? Value::undefined(spell(e)) : it->second;
      }
      case Value::Kind::Loop: return loop_attribute(object.loop_state(), name);
      case Value::Kind::Function: return Value::undefined(spell(e));
      case Value::Kind::Data: break;
    }
    if (object.is_dict()) {
      const auto it = object.data().find(name);
      if (it != object.data().end()) return Value::element_of(object, *it);
    }
    return Value::undefined(spell(e));
  }

  static Value loop_attribute(const LoopState& loop, const std::string& name) {
    const auto n = static_cast<int64_t>(loop.items->size()), i = static_cast<int64_t>(loop.index);
    if (name == "index") return Value::of(i + 1);
    if (name == "index0") return Value::of(i);
    if (name == "revindex") return Value::of(n - i);
    if (name == "revindex0") return Value::of(n - i - 1);
    if (name == "first") return Value::of(i == 0);
    if (name == "last") return Value::of(i == n - 1);
    if (name == "length") return Value::of(n);
    if (name == "depth") return Value::of(1);
    if (name == "depth0") return Value::of(0);
    if (name == "previtem") return i > 0 ? (*loop.items)[loop.index - 1] : Value::undefined("loop.previtem");
    if (name == "nextitem") return i + 1 < n ? (*loop.items)[loop.index + 1] : Value::undefined("loop.nextitem");
    fault(ErrorCode::NotImplemented, "loop." + name + " is not supported");
  }

  // obj[key]; as Jinja, an item that is not there is undefined, and a string key of a non-dict is
  // read as an attribute.
  Value item(const Value& object, const Value& key, const Expr& e) {
    if (object.is_undefined()) fault(ErrorCode::InvalidArgument, "cannot index " + describe(object));
    if (object.is_dict()) {
      if (!key.is_string()) return Value::undefined(spell(e));
      const auto it = object.data().find(key.string());
      return it == object.data().end() ? Value::undefined(spell(e)) : Value::element_of(object, *it);
    }
    if (key.is_string()) return attribute(object, key.string(), e);
    if ((object.is_list() || object.is_string()) && key.is_number() && !key.data().is_number_float()) {
      int64_t i = key.as_integer();
      if (object.is_list()) {
        const auto n = static_cast<int64_t>(object.data().size());
        if (i < 0) i += n;
        if (i < 0 || i >= n) return Value::undefined(spell(e));
        return Value::element_of(object, object.data()[static_cast<size_t>(i)]);
      }
      const std::vector<size_t> at = code_point_offsets(object.string());
      const auto n = static_cast<int64_t>(at.size()) - 1;
      if (i < 0) i += n;
      if (i < 0 || i >= n) return Value::undefined(spell(e));
      const auto k = static_cast<size_t>(i);
      return Value::of(object.string().substr(at[k], at[k + 1] - at[k]));
    }
    fault(ErrorCode::InvalidArgument, "cannot index " + describe(object) + " with " + describe(key));
  }

  Value slice(const Expr& e) {
    const Value object = eval(*e.operands[0]);
    const auto bound = [&](size_t i) { return e.operands[i] ? eval(*e.operands[i]) : Value(); };
    const Value start = bound(1), stop = bound(2), step = bound(3);
    if (object.is_list()) {
      Json out = Json::array();
      for (int64_t i : slice_indices(static_cast<int64_t>(object.data().size()), start, stop, step))
        out.push_back(object.data()[static_cast<size_t>(i)]);
      return Value::of(std::move(out));
    }
    if (object.is_string()) {
      const std::string& s = object.string();
      const std::vector<size_t> at = code_point_offsets(s);
      std::string out;
      for (int64_t i : slice_indices(static_cast<int64_t>(at.size()) - 1, start, stop, step)) {
        const auto k = static_cast<size_t>(i);
        out.append(s, at[k], at[k + 1] - at[k]);
      }
      return Value::of(std::move(out));
    }
    fault(ErrorCode::InvalidArgument, "cannot slice " + describe(object));
  }

  Value call(const Expr& e) {
    const Expr& callee = *e.operands[0];
    if (callee.kind == ExprKind::Attribute) {
      const Value self = eval(*callee.operands[0]);
      if (self.is_string() || self.is_dict()) {
        const CallArgs args = arguments(e);
        return builtin("method", callee.name, [&] { return call_method(self, callee.name, args, context_); });
      }
      const Value function = attribute(self, callee.name, callee);
      return call_value(function, callee, e);
    }
    return call_value(eval(callee), callee, e);
  }

  Value call_value(const Value& function, const Expr& callee, const Expr& e) {
    if (function.kind() != Value::Kind::Function) {
      if (function.is_undefined())
        fault(ErrorCode::NotImplemented, "'" + spell(callee) + "' is not a function Kiln's templates define");
      fault(ErrorCode::InvalidArgument, "'" + spell(callee) + "' is " + describe(function) + ", not a function");
    }
    const CallArgs args = arguments(e);
    return builtin("function", function.name(), [&] { return call_function(function.name(), args, context_); });
  }

  Value unary(const Expr& e) {
    const Value v = eval(*e.operands[0]);
    if (e.name == "not") return Value::of(!truthy(v));
    if (!v.is_number()) fault(ErrorCode::InvalidArgument, "cannot apply unary '" + e.name + "' to " + describe(v));
    if (e.name == "+") return v;
    if (v.data().is_number_float()) return Value::of(-v.as_double());
    const int64_t i = v.as_integer();
    if (i == std::numeric_limits<int64_t>::min()) fault(ErrorCode::NotImplemented, "integer negation overflows 64 bits");
    return Value::of(-i);
  }

  Value binary(const Expr& e) {
    const std::string& op = e.name;
    const Value left = eval(*e.operands[0]);
    if (op == "and") return truthy(left) ? eval(*e.operands[1]) : left;
    if (op == "or") return truthy(left) ? left : eval(*e.operands[1]);
    const Value right = eval(*e.operands[1]);
    if (op == "==") return Value::of(equals(left, right));
    if (op == "!=") return Value::of(!equals(left, right));
    if (op == "in") return Value::of(contains(right, left));
    if (op == "not in") return Value::of(!contains(right, left));
    if (op == "<" || op == "<=" || op == ">" || op == ">=") {
      const int c = compare(left, right);
      const bool result = op == "<" ? c == -1 : op == "<=" ? (c == -1 || c == 0) : op == ">" ? c == 1 : (c == 1 || c == 0);
      return Value::of(result);
    }
    if (op == "~") {
      std::string joined = to_str(left) + to_str(right);
      if (joined.size() > context_.budget.max_size())
        fault(ErrorCode::InvalidArgument, "'~' would build more than " + std::to_string(context_.budget.max_size()) + " bytes");
      return built(Value::of(std::move(joined)));
    }
    return built(arithmetic(op, left, right, context_.budget.max_size()));
  }

  const std::string& name_;
  CallContext context_;
  std::vector<Scope> scopes_;
  std::string out_;
};

}  // namespace

std::string render_program(const std::vector<Node>& program, const std::string& template_name, Json variables,
                           std::time_t now, RenderBudget& budget) {
  return Renderer(template_name, std::move(variables), now, budget).run(program);
}

}  // namespace kiln::llm::jinja
