#include "llm/chat_template_value.h"

#include <cmath>
#include <limits>

#include "llm/chat_template_text.h"

namespace kiln::llm::jinja {
namespace {

bool is_integral(const Json& v) { return v.is_number_integer() || v.is_boolean(); }
bool is_numeric(const Json& v) { return v.is_number() || v.is_boolean(); }

int64_t integral(const Json& v) {
  if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    fault(ErrorCode::NotImplemented, "the integer " + v.dump() + " is beyond 64 bits");
  return v.get<int64_t>();
}

double real(const Json& v) { return v.is_boolean() ? (v.get<bool>() ? 1.0 : 0.0) : v.get<double>(); }

bool json_equals(const Json& a, const Json& b) {
  if (is_numeric(a) && is_numeric(b)) {
    if (is_integral(a) && is_integral(b)) return integral(a) == integral(b);
    return real(a) == real(b);
  }
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!json_equals(a[i], b[i])) return false;
    return true;
  }
  if (a.is_object()) {  // Python's dict equality ignores order
    if (a.size() != b.size()) return false;
    for (const auto& [key, item] : a.items()) {
      const auto other = b.find(key);
      if (other == b.end() || !json_equals(item, *other)) return false;
    }
    return true;
  }
  return a == b;
}

int json_compare(const Json& a, const Json& b, const Value& va, const Value& vb) {
  if (is_numeric(a) && is_numeric(b)) {
    if (is_integral(a) && is_integral(b)) {
      const int64_t x = integral(a), y = integral(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    const double x = real(a), y = real(b);
    if (std::isnan(x) || std::isnan(y)) return 2;  // unordered: every comparison but != is false
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) {
    const int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (a.is_array() && b.is_array()) {
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
      if (json_equals(a[i], b[i])) continue;
      return json_compare(a[i], b[i], va, vb);
    }
    return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
  }
  fault(ErrorCode::InvalidArgument, "cannot order " + describe(va) + " and " + describe(vb));
}

// a op b through one of the __builtin_*_overflow checks.
template <typename Op>
int64_t checked(Op op, int64_t a, int64_t b, const std::string& name) {
  int64_t r = 0;
  if (op(a, b, &r)) fault(ErrorCode::NotImplemented, "integer '" + name + "' overflows 64 bits");
  return r;
}

constexpr auto kAdd = [](int64_t a, int64_t b, int64_t* r) { return __builtin_add_overflow(a, b, r); };
constexpr auto kSub = [](int64_t a, int64_t b, int64_t* r) { return __builtin_sub_overflow(a, b, r); };
constexpr auto kMul = [](int64_t a, int64_t b, int64_t* r) { return __builtin_mul_overflow(a, b, r); };

Value integer_arithmetic(const std::string& op, int64_t a, int64_t b) {
  if (op == "+") return Value::of(checked(kAdd, a, b, op));
  if (op == "-") return Value::of(checked(kSub, a, b, op));
  if (op == "*") return Value::of(checked(kMul, a, b, op));
  if (op == "/") {
    if (b == 0) fault(ErrorCode::InvalidArgument, "division by zero");
    return Value::of(static_cast<double>(a) / static_cast<double>(b));
  }
  if (op == "//" || op == "%") {
    if (b == 0) fault(ErrorCode::InvalidArgument, "integer division or modulo by zero");
    if (a == std::numeric_limits<int64_t>::min() && b == -1)
      fault(ErrorCode::NotImplemented, "integer '" + op + "' overflows 64 bits");
    int64_t q = a / b, m = a % b;
    if (m != 0 && (m < 0) != (b < 0)) {  // Python floors; C++ truncates
      q -= 1;
      m += b;
    }
    return Value::of(op == "//" ? q : m);
  }
  // "**"
  if (b < 0) return Value::of(std::pow(static_cast<double>(a), static_cast<double>(b)));
  int64_t result = 1, base = a;
  for (int64_t e = b; e > 0; e >>= 1) {
    if (e & 1) result = checked(kMul, result, base, op);
    if (e > 1) base = checked(kMul, base, base, op);
  }
  return Value::of(result);
}

Value real_arithmetic(const std::string& op, double a, double b) {
  if (op == "+") return Value::of(a + b);
  if (op == "-") return Value::of(a - b);
  if (op == "*") return Value::of(a * b);
  if (op == "**") {
    const double r = std::pow(a, b);
    if (std::isnan(r) && !std::isnan(a) && !std::isnan(b))
      fault(ErrorCode::InvalidArgument, "a negative number to a fractional power");
    return Value::of(r);
  }
  if (b == 0) fault(ErrorCode::InvalidArgument, "float division by zero");
  if (op == "/") return Value::of(a / b);
  if (op == "//") return Value::of(std::floor(a / b));
  double m = std::fmod(a, b);
  if (m != 0 && (m < 0) != (b < 0)) m += b;
  return Value::of(m);
}

Value repeat(const Json& seq, int64_t times, size_t max_size) {
  const size_t n = times > 0 ? static_cast<size_t>(times) : 0;
  const size_t unit = seq.is_string() ? seq.get_ref<const std::string&>().size() : seq.size();
  if (unit > 0 && n > max_size / unit) fault(ErrorCode::InvalidArgument, "'*' would build more than " + std::to_string(max_size) + (seq.is_string() ? " bytes" : " items"));
  Json out = seq.is_string() ? Json(std::string()) : Json::array();
  for (size_t i = 0; i < n; ++i) {
    if (seq.is_string())
      out.get_ref<std::string&>() += seq.get_ref<const std::string&>();
    else
      for (const Json& item : seq) out.push_back(item);
  }
  return Value::of(std::move(out));
}

}  // namespace

Value Value::undefined(std::string what) {
  Value v;
  v.name_ = std::move(what);
  return v;
}

Value Value::of(Json data) {
  Value v;
  v.kind_ = Kind::Data;
  v.data_ = std::make_shared<const Json>(std::move(data));
  return v;
}

Value Value::element_of(const Value& parent, const Json& element) {
  Value v;
  v.kind_ = Kind::Data;
  v.data_ = std::shared_ptr<const Json>(parent.data_, &element);
  return v;
}

Value Value::namespace_object(std::shared_ptr<NamespaceState> state) {
  Value v;
  v.kind_ = Kind::Namespace;
  v.namespace_ = std::move(state);
  return v;
}

Value Value::loop(std::shared_ptr<const LoopState> state) {
  Value v;
  v.kind_ = Kind::Loop;
  v.loop_ = std::move(state);
  return v;
}

Value Value::function(std::string name) {
  Value v;
  v.kind_ = Kind::Function;
  v.name_ = std::move(name);
  return v;
}

const Json& Value::data() const {
  if (!is_data()) fault(ErrorCode::InvalidArgument, "expected data, got " + describe(*this));
  return *data_;
}

const std::string& Value::string() const {
  if (!is_string()) fault(ErrorCode::InvalidArgument, "expected a string, got " + describe(*this));
  return data_->get_ref<const std::string&>();
}

NamespaceState& Value::namespace_state() const {
  if (kind_ != Kind::Namespace) fault(ErrorCode::InvalidArgument, "expected a namespace, got " + describe(*this));
  return *namespace_;
}

const LoopState& Value::loop_state() const {
  if (kind_ != Kind::Loop) fault(ErrorCode::InvalidArgument, "expected a loop object, got " + describe(*this));
  return *loop_;
}

int64_t Value::as_integer() const {
  if (!is_data() || !is_integral(*data_)) fault(ErrorCode::InvalidArgument, "expected an integer, got " + describe(*this));
  return integral(*data_);
}

double Value::as_double() const {
  if (!is_number()) fault(ErrorCode::InvalidArgument, "expected a number, got " + describe(*this));
  return real(*data_);
}

std::string describe(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Undefined: return v.name().empty() ? "an undefined value" : "undefined '" + v.name() + "'";
    case Value::Kind::Namespace: return "a namespace";
    case Value::Kind::Loop: return "the loop object";
    case Value::Kind::Function: return "the function " + v.name() + "()";
    case Value::Kind::Data: break;
  }
  const Json& d = v.data();
  if (d.is_null()) return "none";
  if (d.is_boolean()) return "a boolean";
  if (d.is_number_integer()) return "an integer";
  if (d.is_number()) return "a float";
  if (d.is_string()) return "a string";
  if (d.is_array()) return "a list";
  return "a dict";
}

bool truthy(const Value& v) {
  if (v.is_undefined()) return false;
  if (!v.is_data()) return true;
  const Json& d = v.data();
  if (d.is_null()) return false;
  if (d.is_boolean()) return d.get<bool>();
  if (d.is_number_integer()) return integral(d) != 0;
  if (d.is_number()) return d.get<double>() != 0;
  if (d.is_string()) return !d.get_ref<const std::string&>().empty();
  return !d.empty();
}

bool equals(const Value& a, const Value& b) {
  if (a.is_data() && b.is_data()) return json_equals(a.data(), b.data());
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::Undefined: return true;
    case Value::Kind::Namespace: return &a.namespace_state() == &b.namespace_state();
    case Value::Kind::Loop: return &a.loop_state() == &b.loop_state();
    default: return a.name() == b.name();
  }
}

int compare(const Value& a, const Value& b) {
  if (!a.is_data() || !b.is_data())
    fault(ErrorCode::InvalidArgument, "cannot order " + describe(a) + " and " + describe(b));
  return json_compare(a.data(), b.data(), a, b);
}

bool contains(const Value& haystack, const Value& needle) {
  if (haystack.is_undefined()) return false;
  if (haystack.is_string()) {
    if (!needle.is_string())
      fault(ErrorCode::InvalidArgument, "'in' a string needs a string on the left, got " + describe(needle));
    return haystack.string().find(needle.string()) != std::string::npos;
  }
  if (haystack.is_list()) {
    for (const Json& item : haystack.data())
      if (needle.is_data() && json_equals(item, needle.data())) return true;
    return false;
  }
  if (haystack.is_dict()) return needle.is_string() && haystack.data().contains(needle.string());
  fault(ErrorCode::InvalidArgument, "'in' needs a string, list or dict on the right, got " + describe(haystack));
}

std::vector<Value> items_of(const Value& v) {
  std::vector<Value> items;
  if (v.is_undefined()) return items;
  if (v.is_list()) {
    for (const Json& item : v.data()) items.push_back(Value::element_of(v, item));
  } else if (v.is_dict()) {
    for (const auto& item : v.data().items()) items.push_back(Value::of(item.key()));
  } else if (v.is_string()) {
    const std::string& s = v.string();
    const std::vector<size_t> at = code_point_offsets(s);
    for (size_t i = 0; i + 1 < at.size(); ++i) items.push_back(Value::of(s.substr(at[i], at[i + 1] - at[i])));
  } else {
    fault(ErrorCode::InvalidArgument, "cannot iterate over " + describe(v));
  }
  return items;
}

std::string to_str(const Value& v) {
  if (v.is_undefined()) return "";
  if (!v.is_data()) fault(ErrorCode::NotImplemented, "cannot turn " + describe(v) + " into text");
  return python_str(v.data());
}

Value arithmetic(const std::string& op, const Value& a, const Value& b, size_t max_size) {
  const auto unsupported = [&]() -> Value {
    fault(ErrorCode::InvalidArgument, "cannot apply '" + op + "' to " + describe(a) + " and " + describe(b));
  };
  if (!a.is_data() || !b.is_data()) return unsupported();
  const Json &x = a.data(), &y = b.data();
  if (is_numeric(x) && is_numeric(y)) {
    if (is_integral(x) && is_integral(y)) return integer_arithmetic(op, integral(x), integral(y));
    return real_arithmetic(op, real(x), real(y));
  }
  if (op == "+" && x.type() == y.type() && (x.is_string() || x.is_array())) {
    const size_t size = x.is_string() ? x.get_ref<const std::string&>().size() + y.get_ref<const std::string&>().size()
                                      : x.size() + y.size();
    if (size > max_size) fault(ErrorCode::InvalidArgument, "'+' would build more than " + std::to_string(max_size) + (x.is_string() ? " bytes" : " items"));
    if (x.is_string()) return Value::of(x.get_ref<const std::string&>() + y.get_ref<const std::string&>());
    Json joined = x;
    for (const Json& item : y) joined.push_back(item);
    return Value::of(std::move(joined));
  }
  if (op == "*" && (x.is_string() || x.is_array()) && is_integral(y)) return repeat(x, integral(y), max_size);
  if (op == "*" && (y.is_string() || y.is_array()) && is_integral(x)) return repeat(y, integral(x), max_size);
  return unsupported();
}

}  // namespace kiln::llm::jinja
