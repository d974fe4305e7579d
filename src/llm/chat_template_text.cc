#include "llm/chat_template_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/json_text.h"

namespace kiln::llm::jinja {
namespace {

size_t sequence_length(const std::string& text, size_t at) {
  const auto lead = static_cast<unsigned char>(text[at]);
  const size_t n = lead < 0x80 ? 1 : (lead & 0xe0) == 0xc0 ? 2 : (lead & 0xf0) == 0xe0 ? 3 : (lead & 0xf8) == 0xf0 ? 4 : 1;
  if (at + n > text.size()) return 1;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(text[at + k]) & 0xc0) != 0x80) return 1;
  return n;
}

uint32_t decode(const std::string& text, size_t begin, size_t end) {
  const auto lead = static_cast<unsigned char>(text[begin]);
  if (end - begin == 1) return lead;
  uint32_t cp = lead & (0x7f >> (end - begin));
  for (size_t k = begin + 1; k < end; ++k) cp = cp << 6 | (static_cast<unsigned char>(text[k]) & 0x3f);
  return cp;
}

// str.isspace() of one code point.
bool is_python_space(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
         cp == 0x3000;
}

std::string repr_string(const std::string& s) {
  const bool double_quoted = s.find('\'') != std::string::npos && s.find('"') == std::string::npos;
  const char quote = double_quoted ? '"' : '\'';
  std::string out(1, quote);
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == quote || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + quote;
}

void json_string(std::string& out, const std::string& s) { out += json_quote(s); }

std::string number_str(const Json& v) {
  if (v.is_number_float()) return python_float(v.get<double>());
  return v.dump();  // integers, signed or unsigned
}

class JsonWriter {
 public:
  JsonWriter(std::optional<int> indent, bool sort_keys, size_t max_bytes)
      : indent_(indent), sort_keys_(sort_keys), max_bytes_(max_bytes) {}

  void write(const Json& v, int depth) {
    if (out.size() > max_bytes_) fault(ErrorCode::InvalidArgument, "tojson's output exceeds " + std::to_string(max_bytes_) + " bytes");
    if (v.is_null()) {
      out += "null";
    } else if (v.is_boolean()) {
      out += v.get<bool>() ? "true" : "false";
    } else if (v.is_number_float()) {
      const double d = v.get<double>();
      out += std::isnan(d) ? "NaN" : std::isinf(d) ? (d > 0 ? "Infinity" : "-Infinity") : python_float(d);
    } else if (v.is_number()) {
      out += v.dump();
    } else if (v.is_string()) {
      json_string(out, v.get_ref<const std::string&>());
    } else if (v.is_array()) {
      container('[', ']', v.size(), depth, [&](size_t i) { write(v[i], depth + 1); });
    } else {
      std::vector<const std::pair<const std::string, Json>*> items;
      for (const auto& item : v.get_ref<const Json::object_t&>()) items.push_back(&item);
      if (sort_keys_)
        std::sort(items.begin(), items.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
      container('{', '}', items.size(), depth, [&](size_t i) {
        json_string(out, items[i]->first);
        out += ": ";
        write(items[i]->second, depth + 1);
      });
    }
  }

  std::string out;

 private:
  template <typename WriteItem>
  void container(char open, char close, size_t count, int depth, WriteItem write_item) {
    out += open;
    for (size_t i = 0; i < count; ++i) {
      if (i > 0) out += indent_ ? "," : ", ";
      newline(depth + 1);
      write_item(i);
    }
    if (count > 0) newline(depth);
    out += close;
  }
  void newline(int depth) {
    if (indent_) out += '\n' + std::string(static_cast<size_t>(*indent_) * static_cast<size_t>(depth), ' ');
  }

  std::optional<int> indent_;
  bool sort_keys_;
  size_t max_bytes_;
};

}  // namespace

std::string python_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string s(buf, result.ptr);
  const bool negative = s[0] == '-';
  if (negative) s.erase(0, 1);
  const size_t e = s.find('e');
  const int exponent = std::atoi(s.c_str() + e + 1);
  std::string digits;
  for (size_t i = 0; i < e; ++i)
    if (s[i] != '.') digits += s[i];
  std::string out;
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) {
      out = "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
    } else {
      const auto whole = static_cast<size_t>(exponent) + 1;
      out = digits.size() <= whole ? digits + std::string(whole - digits.size(), '0') + ".0"
                                   : digits.substr(0, whole) + "." + digits.substr(whole);
    }
  } else {
    out = digits.substr(0, 1) + (digits.size() > 1 ? "." + digits.substr(1) : "");
    char exp[16];
    std::snprintf(exp, sizeof exp, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    out += exp;
  }
  return negative ? "-" + out : out;
}

std::string python_str(const Json& v) {
  return v.is_string() ? v.get<std::string>() : python_repr(v);
}

std::string python_repr(const Json& v) {
  if (v.is_null()) return "None";
  if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
  if (v.is_number()) return number_str(v);
  if (v.is_string()) return repr_string(v.get_ref<const std::string&>());
  std::string out(1, v.is_array() ? '[' : '{');
  bool first = true;
  for (const auto& [key, item] : v.items()) {
    if (!first) out += ", ";
    first = false;
    if (v.is_object()) out += repr_string(key) + ": ";
    out += python_repr(item);
  }
  return out + (v.is_array() ? ']' : '}');
}

std::string python_json(const Json& v, std::optional<int> indent, bool sort_keys, size_t max_bytes) {
  JsonWriter writer(indent, sort_keys, max_bytes);
  writer.write(v, 0);
  return std::move(writer.out);
}

std::vector<size_t> code_point_offsets(const std::string& text) {
  std::vector<size_t> offsets;
  for (size_t i = 0; i < text.size(); i += sequence_length(text, i)) offsets.push_back(i);
  offsets.push_back(text.size());
  return offsets;
}

std::string python_strip(const std::string& text, const std::optional<std::string>& chars, bool left, bool right) {
  std::vector<std::string> strip_set;
  if (chars) {
    const std::vector<size_t> c = code_point_offsets(*chars);
    for (size_t i = 0; i + 1 < c.size(); ++i) strip_set.push_back(chars->substr(c[i], c[i + 1] - c[i]));
  }
  const std::vector<size_t> at = code_point_offsets(text);
  const auto strips = [&](size_t i) {
    if (!chars) return is_python_space(decode(text, at[i], at[i + 1]));
    const std::string cp = text.substr(at[i], at[i + 1] - at[i]);
    for (const std::string& s : strip_set)
      if (s == cp) return true;
    return false;
  };
  size_t begin = 0, end = at.size() - 1;  // code point indices
  while (left && begin < end && strips(begin)) ++begin;
  while (right && end > begin && strips(end - 1)) --end;
  return text.substr(at[begin], at[end] - at[begin]);
}

std::vector<std::string> python_split(const std::string& text, const std::optional<std::string>& sep, int64_t maxsplit) {
  std::vector<std::string> parts;
  if (sep) {
    if (sep->empty()) fault(ErrorCode::InvalidArgument, "split() with an empty separator");
    size_t from = 0;
    for (size_t hit; (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) &&
                     (hit = text.find(*sep, from)) != std::string::npos;
         from = hit + sep->size())
      parts.push_back(text.substr(from, hit - from));
    parts.push_back(text.substr(from));
    return parts;
  }
  const std::vector<size_t> at = code_point_offsets(text);
  const auto space = [&](size_t i) { return is_python_space(decode(text, at[i], at[i + 1])); };
  size_t i = 0;
  const size_t n = at.size() - 1;
  while (true) {
    while (i < n && space(i)) ++i;
    if (i == n) break;
    if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) == maxsplit) {  // the rest, as it is
      parts.push_back(text.substr(at[i]));
      break;
    }
    const size_t start = i;
    while (i < n && !space(i)) ++i;
    parts.push_back(text.substr(at[start], at[i] - at[start]));
  }
  return parts;
}

}  // namespace kiln::llm::jinja
