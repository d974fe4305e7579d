#include "llm/chat_template_builtins.h"

#include <algorithm>
#include <map>
#include <optional>

#include "llm/chat_template_text.h"

namespace kiln::llm::jinja {
namespace {

// A builtin's arguments bound to its parameter names, positionally and then by keyword.
class Params {
 public:
  Params(const std::vector<std::string>& names, const CallArgs& args) : names_(names), values_(names.size()) {
    if (args.positional.size() > names.size())
      fault(ErrorCode::InvalidArgument, "takes at most " + std::to_string(names.size()) + " argument(s), got " +
                                            std::to_string(args.positional.size()));
    for (size_t i = 0; i < args.positional.size(); ++i) values_[i] = &args.positional[i];
    for (const auto& [key, value] : args.keywords) {
      const auto it = std::find(names.begin(), names.end(), key);
      if (it == names.end()) fault(ErrorCode::NotImplemented, "the argument '" + key + "' is not supported");
      const auto i = static_cast<size_t>(it - names.begin());
      if (values_[i]) fault(ErrorCode::InvalidArgument, "got the argument '" + key + "' twice");
      values_[i] = &value;
    }
  }

  bool given(size_t i) const { return values_[i] != nullptr; }
  bool has(size_t i) const { return given(i) && !values_[i]->is_none(); }
  const Value& at(size_t i) const {
    if (!values_[i]) fault(ErrorCode::InvalidArgument, "needs the argument '" + names_[i] + "'");
    return *values_[i];
  }
  std::optional<std::string> optional_string(size_t i) const {
    return has(i) ? std::optional<std::string>(at(i).string()) : std::nullopt;
  }
  int64_t integer_or(size_t i, int64_t fallback) const { return has(i) ? at(i).as_integer() : fallback; }
  bool flag(size_t i) const { return has(i) && truthy(at(i)); }

 private:
  const std::vector<std::string>& names_;
  std::vector<const Value*> values_;
};

using FilterFn = Value (*)(const Value&, const Params&, CallContext&);
using TestFn = bool (*)(const Value&, const Params&);
using FunctionFn = Value (*)(const Params&, CallContext&);

struct FilterDef {
  std::vector<std::string> params;
  FilterFn fn;
};
struct TestDef {
  std::vector<std::string> params;
  TestFn fn;
};
struct FunctionDef {
  std::vector<std::string> params;
  FunctionFn fn;
};

Value list_of(std::vector<Value> items) {
  Json list = Json::array();
  for (const Value& item : items) list.push_back(item.data());
  return Value::of(std::move(list));
}

std::string ascii_case(std::string s, bool upper) {
  for (char& c : s) {
    if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

void check_size(size_t size, size_t max_size) {
  if (size > max_size) fault(ErrorCode::InvalidArgument, "the result would exceed " + std::to_string(max_size) + " bytes");
}

std::string join(const Value& items, const std::string& separator, size_t max_size) {
  std::string out;
  bool first = true;
  for (const Value& item : items_of(items)) {
    if (!first) out += separator;
    first = false;
    out += to_str(item);
    check_size(out.size(), max_size);
  }
  return out;
}

// str.replace(old, new, count); an empty `old` inserts `new` around every character, as Python does.
std::string replace(const std::string& text, const std::string& old, const std::string& with, int64_t count,
                    size_t max_size) {
  std::string out;
  int64_t done = 0;
  const auto more = [&] { return count < 0 || done < count; };
  if (old.empty()) {
    const std::vector<size_t> at = code_point_offsets(text);
    for (size_t i = 0; i + 1 < at.size(); ++i) {
      if (more()) out += with, ++done;
      out.append(text, at[i], at[i + 1] - at[i]);
      check_size(out.size(), max_size);
    }
    if (more()) out += with;
    return out;
  }
  size_t from = 0;
  for (size_t hit; more() && (hit = text.find(old, from)) != std::string::npos; from = hit + old.size(), ++done) {
    out.append(text, from, hit - from);
    out += with;
    check_size(out.size(), max_size);
  }
  out.append(text, from);
  check_size(out.size(), max_size);
  return out;
}

Value length(const Value& v) {
  if (v.is_undefined()) return Value::of(0);
  if (v.is_string()) return Value::of(code_point_offsets(v.string()).size() - 1);
  if (v.is_list() || v.is_dict()) return Value::of(v.data().size());
  fault(ErrorCode::InvalidArgument, describe(v) + " has no length");
}

Value dict_items(const Value& v) {
  if (v.is_undefined()) return Value::of(Json::array());
  if (!v.is_dict()) fault(ErrorCode::InvalidArgument, "items() needs a dict, got " + describe(v));
  Json pairs = Json::array();
  for (const auto& item : v.data().items()) pairs.push_back(Json::array({item.key(), item.value()}));
  return Value::of(std::move(pairs));
}

Value end_item(const Value& v, bool last) {
  std::vector<Value> items = items_of(v);
  if (items.empty()) return Value::undefined(last ? "the last item of an empty sequence" : "the first item of an empty sequence");
  return last ? items.back() : items.front();
}

Value select_items(const Value& v, const Params& p, bool keep) {
  const std::string& test = p.at(0).string();
  if (!is_test(test)) fault(ErrorCode::NotImplemented, "the test '" + test + "' is not supported");
  CallArgs test_args;
  for (size_t i = 1; i < 3 && p.has(i); ++i) test_args.positional.push_back(p.at(i));
  std::vector<Value> kept;
  for (const Value& item : items_of(v))
    if (apply_test(test, item, test_args) == keep) kept.push_back(item);
  return list_of(std::move(kept));
}

const std::map<std::string, FilterDef>& filters() {
  static const std::map<std::string, FilterDef> table = {
      {"trim", {{"chars"}, [](const Value& v, const Params& p, CallContext&) {
         return Value::of(python_strip(to_str(v), p.optional_string(0), true, true));
       }}},
      {"length", {{}, [](const Value& v, const Params&, CallContext&) { return length(v); }}},
      {"count", {{}, [](const Value& v, const Params&, CallContext&) { return length(v); }}},
      {"upper", {{}, [](const Value& v, const Params&, CallContext&) { return Value::of(ascii_case(to_str(v), true)); }}},
      {"lower", {{}, [](const Value& v, const Params&, CallContext&) { return Value::of(ascii_case(to_str(v), false)); }}},
      {"default", {{"default_value", "boolean"}, [](const Value& v, const Params& p, CallContext&) {
         const bool use_default = v.is_undefined() || (p.flag(1) && !truthy(v));
         return use_default ? (p.given(0) ? p.at(0) : Value::of("")) : v;
       }}},
      {"tojson", {{"indent", "sort_keys"}, [](const Value& v, const Params& p, CallContext& c) {
         if (!v.is_data()) fault(ErrorCode::InvalidArgument, "cannot serialize " + describe(v));
         std::optional<int> indent;
         if (p.has(0)) indent = static_cast<int>(std::clamp<int64_t>(p.at(0).as_integer(), 0, 64));
         return Value::of(python_json(v.data(), indent, p.flag(1), c.budget.max_size()));
       }}},
      {"join", {{"d"}, [](const Value& v, const Params& p, CallContext& c) {
         return Value::of(join(v, p.optional_string(0).value_or(""), c.budget.max_size()));
       }}},
      {"string", {{}, [](const Value& v, const Params&, CallContext&) { return Value::of(to_str(v)); }}},
      {"items", {{}, [](const Value& v, const Params&, CallContext&) { return dict_items(v); }}},
      {"first", {{}, [](const Value& v, const Params&, CallContext&) { return end_item(v, false); }}},
      {"last", {{}, [](const Value& v, const Params&, CallContext&) { return end_item(v, true); }}},
      {"list", {{}, [](const Value& v, const Params&, CallContext&) { return list_of(items_of(v)); }}},
      {"replace", {{"old", "new", "count"}, [](const Value& v, const Params& p, CallContext& c) {
         return Value::of(replace(to_str(v), p.at(0).string(), p.at(1).string(), p.integer_or(2, -1), c.budget.max_size()));
       }}},
      // select/reject take the test's name and up to two arguments for it.
      {"select", {{"test", "arg", "arg2"}, [](const Value& v, const Params& p, CallContext&) { return select_items(v, p, true); }}},
      {"reject", {{"test", "arg", "arg2"}, [](const Value& v, const Params& p, CallContext&) { return select_items(v, p, false); }}},
  };
  return table;
}

bool data_is(const Value& v, bool (Json::*is)() const noexcept) { return v.is_data() && (v.data().*is)(); }

const std::map<std::string, TestDef>& tests() {
  static const std::map<std::string, TestDef> table = {
      {"defined", {{}, [](const Value& v, const Params&) { return !v.is_undefined(); }}},
      {"undefined", {{}, [](const Value& v, const Params&) { return v.is_undefined(); }}},
      {"none", {{}, [](const Value& v, const Params&) { return v.is_none(); }}},
      {"boolean", {{}, [](const Value& v, const Params&) { return v.is_bool(); }}},
      {"true", {{}, [](const Value& v, const Params&) { return v.is_bool() && v.data().get<bool>(); }}},
      {"false", {{}, [](const Value& v, const Params&) { return v.is_bool() && !v.data().get<bool>(); }}},
      {"integer", {{}, [](const Value& v, const Params&) { return v.is_integer(); }}},
      {"float", {{}, [](const Value& v, const Params&) { return data_is(v, &Json::is_number_float); }}},
      {"number", {{}, [](const Value& v, const Params&) { return v.is_number(); }}},
      {"string", {{}, [](const Value& v, const Params&) { return v.is_string(); }}},
      {"mapping", {{}, [](const Value& v, const Params&) { return v.is_dict(); }}},
      // As in Jinja, an undefined value iterates (as nothing) and has a length (0).
      {"iterable", {{}, [](const Value& v, const Params&) {
         return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
       }}},
      {"sequence", {{}, [](const Value& v, const Params&) {
         return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
       }}},
      {"callable", {{}, [](const Value& v, const Params&) { return v.kind() == Value::Kind::Function; }}},
      {"equalto", {{"other"}, [](const Value& v, const Params& p) { return equals(v, p.at(0)); }}},
      {"eq", {{"other"}, [](const Value& v, const Params& p) { return equals(v, p.at(0)); }}},
      {"ne", {{"other"}, [](const Value& v, const Params& p) { return !equals(v, p.at(0)); }}},
      {"in", {{"seq"}, [](const Value& v, const Params& p) { return contains(p.at(0), v); }}},
      {"odd", {{}, [](const Value& v, const Params&) { return v.as_integer() % 2 != 0; }}},
      {"even", {{}, [](const Value& v, const Params&) { return v.as_integer() % 2 == 0; }}},
      {"divisibleby", {{"num"}, [](const Value& v, const Params& p) {
         const int64_t n = p.at(0).as_integer();
         if (n == 0) fault(ErrorCode::InvalidArgument, "divisibleby 0");
         return v.as_integer() % n == 0;
       }}},
  };
  return table;
}

std::string format_now(const std::string& format, std::time_t now) {
  static const std::string kAllowed = "aAbBdeHIjmMpSyYZ%";
  if (format.size() > 256) fault(ErrorCode::InvalidArgument, "the format is longer than 256 characters");
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') continue;
    if (i + 1 == format.size() || kAllowed.find(format[i + 1]) == std::string::npos)
      fault(ErrorCode::NotImplemented, "the format '" + format + "' uses a conversion other than %" +
                                           std::string(kAllowed.begin(), kAllowed.end() - 1) + " or %%");
    ++i;
  }
  std::tm local{};
  localtime_r(&now, &local);
  std::string out(format.size() * 16 + 1, '\0');  // no allowed conversion is longer than 16 bytes
  out.resize(std::strftime(out.data(), out.size(), format.c_str(), &local));
  return out;
}

Value range_of(const Params& p, CallContext& c) {
  int64_t start = 0, stop = p.at(0).as_integer(), step = 1;
  if (p.has(1)) {
    start = stop;
    stop = p.at(1).as_integer();
  }
  if (p.has(2)) step = p.at(2).as_integer();
  if (step == 0) fault(ErrorCode::InvalidArgument, "range() step must not be zero");
  const double span = (static_cast<double>(stop) - static_cast<double>(start)) / static_cast<double>(step);
  const double count = std::max(0.0, std::ceil(span));
  if (count > static_cast<double>(c.budget.max_iterations()))
    fault(ErrorCode::InvalidArgument, "range() of more than " + std::to_string(c.budget.max_iterations()) + " numbers");
  Json numbers = Json::array();
  for (int64_t i = 0; i < static_cast<int64_t>(count); ++i) numbers.push_back(start + i * step);
  return Value::of(std::move(numbers));
}

const std::map<std::string, FunctionDef>& functions() {
  static const std::map<std::string, FunctionDef> table = {
      {"raise_exception", {{"message"}, [](const Params& p, CallContext&) -> Value {
         throw Fault{ErrorCode::InvalidArgument, "the template raised an error: " + to_str(p.at(0))};
       }}},
      {"range", {{"start", "stop", "step"}, range_of}},
      {"strftime_now", {{"format"}, [](const Params& p, CallContext& c) {
         return Value::of(format_now(p.at(0).string(), c.now));
       }}},
  };
  return table;
}

Value string_method(const std::string& text, const std::string& name, const CallArgs& args, CallContext& context) {
  using Method = Value (*)(const std::string&, const Params&, CallContext&);
  static const std::map<std::string, std::pair<std::vector<std::string>, Method>> table = {
      {"strip", {{"chars"}, [](const std::string& s, const Params& p, CallContext&) { return Value::of(python_strip(s, p.optional_string(0), true, true)); }}},
      {"lstrip", {{"chars"}, [](const std::string& s, const Params& p, CallContext&) { return Value::of(python_strip(s, p.optional_string(0), true, false)); }}},
      {"rstrip", {{"chars"}, [](const std::string& s, const Params& p, CallContext&) { return Value::of(python_strip(s, p.optional_string(0), false, true)); }}},
      {"upper", {{}, [](const std::string& s, const Params&, CallContext&) { return Value::of(ascii_case(s, true)); }}},
      {"lower", {{}, [](const std::string& s, const Params&, CallContext&) { return Value::of(ascii_case(s, false)); }}},
      {"startswith", {{"prefix"}, [](const std::string& s, const Params& p, CallContext&) {
         const Value& prefix = p.at(0);
         for (const Value& option : prefix.is_list() ? items_of(prefix) : std::vector<Value>{prefix})
           if (s.compare(0, option.string().size(), option.string()) == 0) return Value::of(true);
         return Value::of(false);
       }}},
      {"endswith", {{"suffix"}, [](const std::string& s, const Params& p, CallContext&) {
         const Value& suffix = p.at(0);
         for (const Value& option : suffix.is_list() ? items_of(suffix) : std::vector<Value>{suffix}) {
           const std::string& o = option.string();
           if (o.size() <= s.size() && s.compare(s.size() - o.size(), o.size(), o) == 0) return Value::of(true);
         }
         return Value::of(false);
       }}},
      {"split", {{"sep", "maxsplit"}, [](const std::string& s, const Params& p, CallContext&) {
         Json parts = Json::array();
         for (std::string& part : python_split(s, p.optional_string(0), p.integer_or(1, -1))) parts.push_back(std::move(part));
         return Value::of(std::move(parts));
       }}},
      {"replace", {{"old", "new", "count"}, [](const std::string& s, const Params& p, CallContext& c) {
         return Value::of(replace(s, p.at(0).string(), p.at(1).string(), p.integer_or(2, -1), c.budget.max_size()));
       }}},
      {"join", {{"iterable"}, [](const std::string& s, const Params& p, CallContext& c) {
         for (const Value& item : items_of(p.at(0)))
           if (!item.is_string()) fault(ErrorCode::InvalidArgument, "join() needs strings, got " + describe(item));
         return Value::of(join(p.at(0), s, c.budget.max_size()));
       }}},
  };
  const auto it = table.find(name);
  if (it == table.end()) fault(ErrorCode::NotImplemented, "strings have no method '" + name + "' here");
  return it->second.second(text, Params(it->second.first, args), context);
}

Value dict_method(const Value& dict, const std::string& name, const CallArgs& args) {
  static const std::vector<std::string> kNoParams, kGetParams = {"key", "default"};
  if (name == "get") {
    const Params p(kGetParams, args);
    const Value& key = p.at(0);
    const auto it = key.is_string() ? dict.data().find(key.string()) : dict.data().end();
    if (it != dict.data().end()) return Value::element_of(dict, *it);
    return p.has(1) ? p.at(1) : Value::of(nullptr);
  }
  const Params none(kNoParams, args);
  if (name == "items") return dict_items(dict);
  if (name == "keys") return list_of(items_of(dict));
  if (name == "values") {
    std::vector<Value> values;
    for (const Json& item : dict.data()) values.push_back(Value::element_of(dict, item));
    return list_of(std::move(values));
  }
  fault(ErrorCode::NotImplemented, "dicts have no method '" + name + "' here");
}

}  // namespace

void RenderBudget::spend_bytes(size_t n) {
  if (n > bytes_left_) fault(ErrorCode::InvalidArgument, "the render builds more text than its cap allows");
  bytes_left_ -= n;
}

void RenderBudget::spend_iteration() {
  if (iterations_left_ == 0) fault(ErrorCode::InvalidArgument, "the render runs more loop iterations than its cap allows");
  --iterations_left_;
}

bool is_filter(const std::string& name) { return filters().count(name) > 0; }
bool is_test(const std::string& name) { return tests().count(name) > 0; }

const std::vector<std::string>& function_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n = {"namespace"};
    for (const auto& entry : functions()) n.push_back(entry.first);
    return n;
  }();
  return names;
}

Value apply_filter(const std::string& name, const Value& subject, const CallArgs& args, CallContext& context) {
  const FilterDef& def = filters().at(name);
  return def.fn(subject, Params(def.params, args), context);
}

bool apply_test(const std::string& name, const Value& subject, const CallArgs& args) {
  const TestDef& def = tests().at(name);
  return def.fn(subject, Params(def.params, args));
}

Value call_method(const Value& self, const std::string& name, const CallArgs& args, CallContext& context) {
  if (self.is_string()) return string_method(self.string(), name, args, context);
  if (self.is_dict()) return dict_method(self, name, args);
  fault(ErrorCode::NotImplemented, describe(self) + " has no method '" + name + "' here");
}

Value call_function(const std::string& name, const CallArgs& args, CallContext& context) {
  if (name == "namespace") {  // namespace(**attributes): keywords only
    if (!args.positional.empty()) fault(ErrorCode::NotImplemented, "namespace() takes keyword arguments only here");
    auto state = std::make_shared<NamespaceState>();
    for (const auto& [key, value] : args.keywords) state->attributes[key] = value;
    return Value::namespace_object(std::move(state));
  }
  const auto it = functions().find(name);
  if (it == functions().end()) fault(ErrorCode::NotImplemented, "the function '" + name + "' is not supported");
  return it->second.fn(Params(it->second.params, args), context);
}

}  // namespace kiln::llm::jinja
