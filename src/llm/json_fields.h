// Typed fields of one JSON object from a Hugging Face config file (config.json,
// generation_config.json): an absent or null field is absent, a wrong type is an
// Error(InvalidModel) naming the file and the field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln::llm {

class JsonFields {
 public:
  // `object` must outlive this; `source` names the file (and the object within it) in errors.
  JsonFields(const nlohmann::json& object, std::string source) : object_(object), source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& field, const std::string& problem) const;
  // Null when the field is absent or null.
  const nlohmann::json* get(const std::string& field) const;

  std::optional<int64_t> integer(const std::string& field) const;
  // Error when the field is absent and there is no fallback, or when it is not positive.
  int64_t positive(const std::string& field, std::optional<int64_t> fallback = std::nullopt) const;
  std::optional<double> number(const std::string& field) const;
  double number(const std::string& field, double fallback) const { return number(field).value_or(fallback); }
  double positive_number(const std::string& field, double fallback) const;
  std::optional<bool> boolean(const std::string& field) const;
  bool boolean(const std::string& field, bool fallback) const { return boolean(field).value_or(fallback); }
  // Empty when absent.
  std::string string(const std::string& field) const;
  // An integer or a list of integers (eos_token_id); empty when absent.
  std::vector<int64_t> integers(const std::string& field) const;

 private:
  const nlohmann::json& object_;
  std::string source_;
};

// The root object of a config file's text: Error(InvalidModel) naming `source` when it is not JSON
// or not an object.
nlohmann::json parse_json_object(const std::string& json_text, const std::string& source);

}  // namespace kiln::llm
