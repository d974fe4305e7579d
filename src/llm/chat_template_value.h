// The values a chat template computes with, and their Python semantics (Jinja evaluates as Python
// does): truth, equality, ordering, arithmetic, str() and repr().
//
// Data (none, bool, int, float, string, list, dict) is immutable JSON behind a shared pointer, so
// that reading `messages[0]['role']` shares the caller's JSON instead of copying it. Besides data a
// value is Undefined (a missing variable, attribute or item: prints as '', is false, iterates as
// nothing, and fails anything else), a namespace() object (the one mutable thing, shared by every
// scope that sees it), the `loop` object of a for loop, or a builtin function.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "llm/chat_template_ast.h"

namespace kiln::llm::jinja {

struct NamespaceState;
struct LoopState;

class Value {
 public:
  enum class Kind { Undefined, Data, Namespace, Loop, Function };

  Value() = default;  // undefined
  static Value undefined(std::string what);
  static Value of(Json data);
  // `element` must live inside `parent`'s data; the value keeps the parent alive.
  static Value element_of(const Value& parent, const Json& element);
  static Value namespace_object(std::shared_ptr<NamespaceState> state);
  static Value loop(std::shared_ptr<const LoopState> state);
  static Value function(std::string name);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::Undefined; }
  bool is_data() const { return kind_ == Kind::Data; }
  bool is_none() const { return is_data() && data_->is_null(); }
  bool is_string() const { return is_data() && data_->is_string(); }
  bool is_list() const { return is_data() && data_->is_array(); }
  bool is_dict() const { return is_data() && data_->is_object(); }
  bool is_bool() const { return is_data() && data_->is_boolean(); }
  bool is_integer() const { return is_data() && data_->is_number_integer(); }  // not bool
  bool is_number() const { return is_data() && (data_->is_number() || data_->is_boolean()); }  // bool counts, as in Python

  // Require the kind; anything else is a Fault naming what was expected.
  const Json& data() const;
  const std::string& string() const;
  NamespaceState& namespace_state() const;
  const LoopState& loop_state() const;
  // What was undefined (for errors), or the function's name.
  const std::string& name() const { return name_; }

  // A number as int64 (bools as 0/1) or as double; Faults for anything else.
  int64_t as_integer() const;
  double as_double() const;

 private:
  Kind kind_ = Kind::Undefined;
  std::shared_ptr<const Json> data_;
  std::shared_ptr<NamespaceState> namespace_;
  std::shared_ptr<const LoopState> loop_;
  std::string name_;
};

struct NamespaceState {
  std::map<std::string, Value> attributes;
};

// One iteration of a for loop: loop.index0 is `index` into `items`.
struct LoopState {
  std::shared_ptr<const std::vector<Value>> items;
  size_t index = 0;
};

// What a value's kind is called in errors ("string", "list", "undefined value 'x'", ...).
std::string describe(const Value& v);

bool truthy(const Value& v);
bool equals(const Value& a, const Value& b);
// -1, 0 or 1, or 2 for unordered floats (NaN: every comparison but != is false); Faults for
// values Python cannot order (a string and a number, dicts, ...).
int compare(const Value& a, const Value& b);
// `needle in haystack`: a substring, a list element, a dict key; false in an undefined value.
bool contains(const Value& haystack, const Value& needle);

// What a for loop over `v` visits: a list's items, a dict's keys, a string's characters (code
// points); nothing for an undefined value. Faults for anything else.
std::vector<Value> items_of(const Value& v);

// Python's str(): what {{ }} prints. Undefined prints as ''; namespaces, loops and functions Fault.
std::string to_str(const Value& v);

// + - * / // % ** on numbers as Python does them (int64, Faulting on overflow and division by
// zero), + on two strings or two lists, * of a string or list by an integer. `max_size` bounds what
// + and * may build, in bytes or list items.
Value arithmetic(const std::string& op, const Value& a, const Value& b, size_t max_size);

}  // namespace kiln::llm::jinja
