#include "llm/json_fields.h"

#include "kiln/error.h"

namespace kiln::llm {

using json = nlohmann::json;

void JsonFields::fail(const std::string& field, const std::string& problem) const {
  throw Error(ErrorCode::InvalidModel, source_ + ": " + field + " " + problem);
}

const json* JsonFields::get(const std::string& field) const {
  const auto it = object_.find(field);
  return it == object_.end() || it->is_null() ? nullptr : &*it;
}

std::optional<int64_t> JsonFields::integer(const std::string& field) const {
  const json* v = get(field);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) fail(field, "must be an integer");
  return v->get<int64_t>();
}

int64_t JsonFields::positive(const std::string& field, std::optional<int64_t> fallback) const {
  const std::optional<int64_t> v = integer(field);
  if (!v && !fallback) fail(field, "is missing");
  const int64_t value = v ? *v : *fallback;
  if (value <= 0) fail(field, "must be positive, got " + std::to_string(value));
  return value;
}

std::optional<double> JsonFields::number(const std::string& field) const {
  const json* v = get(field);
  if (!v) return std::nullopt;
  if (!v->is_number()) fail(field, "must be a number");
  return v->get<double>();
}

double JsonFields::positive_number(const std::string& field, double fallback) const {
  const double value = number(field, fallback);
  if (!(value > 0)) fail(field, "must be positive, got " + std::to_string(value));
  return value;
}

std::optional<bool> JsonFields::boolean(const std::string& field) const {
  const json* v = get(field);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) fail(field, "must be true or false");
  return v->get<bool>();
}

std::string JsonFields::string(const std::string& field) const {
  const json* v = get(field);
  if (!v) return {};
  if (!v->is_string()) fail(field, "must be a string");
  return v->get<std::string>();
}

std::vector<int64_t> JsonFields::integers(const std::string& field) const {
  const json* v = get(field);
  if (!v) return {};
  if (v->is_number_integer()) return {v->get<int64_t>()};
  if (!v->is_array()) fail(field, "must be an integer or a list of integers");
  std::vector<int64_t> values;
  for (const json& item : *v) {
    if (!item.is_number_integer()) fail(field, "must be an integer or a list of integers");
    values.push_back(item.get<int64_t>());
  }
  return values;
}

json parse_json_object(const std::string& json_text, const std::string& source) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::exception& e) {
    throw Error(ErrorCode::InvalidModel, source + ": not JSON (" + e.what() + ")");
  }
  if (!root.is_object()) throw Error(ErrorCode::InvalidModel, source + ": not a JSON object");
  return root;
}

}  // namespace kiln::llm
