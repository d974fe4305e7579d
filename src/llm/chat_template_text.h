// Text as Python writes and cuts it, for a chat template's data: str() and repr() of JSON values,
// json.dumps() as Hugging Face's tojson calls it, and the string operations Python defines on code
// points (length, indexing, strip, split) over UTF-8.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "llm/chat_template_ast.h"

namespace kiln::llm::jinja {

// float.__repr__: the shortest round-trip digits, '1.0' for integral values, exponent form outside
// 1e-4 <= |v| < 1e16.
std::string python_float(double v);
// str(v): a string as it is; None/True/False; a list or dict as its repr.
std::string python_str(const Json& v);
// repr(v): strings quoted as Python quotes them.
std::string python_repr(const Json& v);
// json.dumps(v, ensure_ascii=False, indent=indent, sort_keys=sort_keys): ", " and ": " separators
// without an indent, "," and ": " with one. Faults past `max_bytes`.
std::string python_json(const Json& v, std::optional<int> indent, bool sort_keys, size_t max_bytes);

// Byte offsets of each code point of UTF-8 text, plus text.size() at the end (malformed bytes
// count as one code point each).
std::vector<size_t> code_point_offsets(const std::string& text);
// str.strip/lstrip/rstrip: `chars` absent strips Python's whitespace (Unicode's, not only ASCII).
std::string python_strip(const std::string& text, const std::optional<std::string>& chars, bool left, bool right);
// str.split(sep, maxsplit): `sep` absent splits on runs of whitespace and drops empty parts;
// maxsplit < 0 means no limit. An empty `sep` Faults, as in Python.
std::vector<std::string> python_split(const std::string& text, const std::optional<std::string>& sep, int64_t maxsplit);

}  // namespace kiln::llm::jinja
